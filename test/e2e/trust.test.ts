import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_QUEUE, hostQueueName, RedisKey } from '../../src/contract/queues.js';
import { sign } from '../../src/contract/signing.js';
import type { HostJobInput } from '../../src/contract/jobs.js';
import { DockerEngine, MAX_COMMAND_OUTPUT } from '../../workers/docker/engine.js';
import { Harness, messageText, dmTo, execIn } from '../support/harness.js';
import { HOUR, LifecycleDriver, MIN } from '../support/lifecycle.js';
import { TEST_JOB_SECRET } from '../support/processes.js';
import { ADMIN, ALICE, BOB, baseImage, docker, dockerHost, redis, World, type TestUser } from '../support/services.js';
import { readHostSnapshot, writeHostSnapshot } from '../support/hosts.js';
import { encodeHostsChanged, encodeSnapshot, HostSnapshot } from '../../src/contract/hosts.js';

/**
 * The trust findings, attacked the way a registered but hostile second user (bob) would, on the
 * real engine, with the real bot and worker processes. Each test checks the effect on the host.
 */
const CAROL: TestUser = { slack_id: 'U0CAROL', user: 'carol', uid: 1003, group: 'student' };

describe("trust: a second user cannot reach root, other users' files, or stall the host", () => {
  const world = new World([ALICE, BOB, ADMIN, CAROL]);
  const h = new Harness(world);
  const conn = redis();
  const hostQueue = new Queue(hostQueueName('gpu1'), { connection: conn });
  const hostEvents = new QueueEvents(hostQueueName('gpu1'), { connection: redis() });
  const lifecycle = new LifecycleDriver('gpu1');
  const engine = new DockerEngine(dockerHost(), 'gpu1');

  beforeAll(async () => {
    world.addProject(ALICE, 'demo');
    writeFileSync(path.join(world.projectDir(ALICE, 'demo'), 'secret.env'), 'ALICE_TOKEN=do-not-leak\n');
    world.addProject(BOB, 'p');
    await h.start([{ hostId: 'gpu1', gpus: 'fake:4', env: { DS01_CHECK_INTERVAL_S: '86400' } }]);
    await hostEvents.waitUntilReady();
    await lifecycle.ready();
  });
  afterAll(async () => {
    await lifecycle.close();
    await hostEvents.close();
    await hostQueue.close();
    await conn.quit();
    await h.stop();
  });

  const exists = async (name: string) => (await docker().listContainers({ all: true, filters: { name: [`^/${name.replace(/\./g, '\\.')}$`] } })).length > 0;
  const imageExists = async (name: string) =>
    docker()
      .getImage(name)
      .inspect()
      .then(
        () => true,
        () => false,
      );

  /** `/ds01 launch` as `user`; resolves with the final launch message (running or not). */
  async function launch(user: TestUser, text: string): Promise<string> {
    const from = h.slack.calls.length;
    const project = text.split(/\s+/)[0]!;
    const r = await h.slash(user, `launch ${text}`);
    await h.responseTo(r.responseUrl);
    const final = await h.slack.waitFor(
      (c) =>
        h.slack.calls.indexOf(c) >= from &&
        dmTo(user)(c) &&
        messageText(c.args).includes(`\`${project}\``) &&
        /is running|already running|did not go through|did not build/.test(messageText(c.args)),
      90_000,
      `the final launch message for ${project}`,
    );
    return messageText(final.args);
  }

  /** Puts a job straight on the host's queue (what a forger with Redis access, or the bot, does). */
  async function queueJob(data: object, id: string): Promise<'completed' | 'failed'> {
    const job = await hostQueue.add('x', data, { jobId: id, attempts: 1 });
    return job.waitUntilFinished(hostEvents, 60_000).then(
      () => 'completed' as const,
      () => 'failed' as const,
    );
  }

  const buildJob = (user: TestUser, project: string, python: string[]): HostJobInput => ({
    kind: 'build',
    requestId: `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    owner: { slackUserId: user.slack_id, user: user.user, uid: user.uid },
    requestedBy: user.user,
    project,
    reply: null,
    noCache: false,
    python,
    system: [],
    purpose: 'image-update',
  });

  it("bob's container runs as bob with no capabilities: a setuid shell or a device made inside gives no root on the host", async () => {
    expect(await launch(BOB, 'p')).toMatch(/is running/);
    const info = await docker().getContainer('p._.1002').inspect();
    expect(info.Config.User).toBe('1002:1002');
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.CapAdd ?? []).toEqual([]);
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(info.HostConfig.Privileged).toBe(false);

    const out = await execIn('p._.1002', [
      'sh',
      '-c',
      'id -u; cp /bin/busybox /workspace/sh; chown 0:0 /workspace/sh; chmod 4755 /workspace/sh; mknod /workspace/null c 1 3; grep -E "CapEff|NoNewPrivs" /proc/self/status',
    ]);
    expect(out.split('\n')[0]).toBe('1002');
    expect(out).toMatch(/CapEff:\s+0000000000000000/);
    expect(out).toMatch(/NoNewPrivs:\s+1/);
    const sh = lstatSync(path.join(world.projectDir(BOB, 'p'), 'sh'));
    expect(sh.uid).toBe(1002); // the chown to root was refused: a setuid bit on bob's own file is harmless
    expect(existsSync(path.join(world.projectDir(BOB, 'p'), 'null'))).toBe(false);
  });

  it('pip install inside works (user site in a private HOME) and the retirement names what was lost', async () => {
    const installed = await execIn('p._.1002', ['sh', '-c', 'echo $HOME; pip install einops==0.7.0; ls -ld $HOME']);
    expect(installed).toMatch(/^\/home\/bob\n/);
    expect(installed).toMatch(/Defaulting to user installation/);
    expect(installed).toMatch(/Successfully installed einops-0.7.0/);
    expect(installed).toMatch(/drwx------\s+\d+\s+1002\s+1002/);
    // Nothing landed in the project folder on the host.
    expect(readdirSync(world.projectDir(BOB, 'p')).some((f) => f.startsWith('.local'))).toBe(false);
    const from = h.slack.calls.length;
    const r = await h.slash(BOB, 'retire p --force');
    await h.responseTo(r.responseUrl);
    const dm = await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(BOB)(c) && /p` was retired/.test(messageText(c.args)), 60_000);
    expect(messageText(dm.args)).toContain('`einops==0.7.0`');
  });

  it("the throwaway container that reads an image's packages runs as the owner, hardened, limited, with its output capped", async () => {
    const runAs = { user: 'bob', uid: 1002, gid: 1002 };
    const limits = { nanoCpus: 1e9, memoryBytes: 256 * 1024 * 1024, pidsLimit: 64 };
    const r = await engine.runOnce(
      baseImage(),
      [
        'sh',
        '-c',
        'id -u; grep -E "CapEff|NoNewPrivs" /proc/self/status; cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max; cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes',
      ],
      runAs,
      limits,
    );
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('1002');
    expect(r.stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(lines).toContain('64');
    expect(lines).toContain(String(256 * 1024 * 1024));
    const flood = await engine.runOnce(baseImage(), ['sh', '-c', 'yes ds01 | head -c 20000000'], runAs, limits);
    expect(flood.truncated).toBe(true);
    expect(flood.stdout.length + flood.stderr.length).toBeLessThanOrEqual(MAX_COMMAND_OUTPUT);
  });

  it("a project folder linked to alice's: launch, rebuild and image-update are refused; nothing of hers is read, changed, built or bound", async () => {
    const aliceDir = world.projectDir(ALICE, 'demo');
    const before = readFileSync(path.join(aliceDir, 'Dockerfile'));
    symlinkSync(aliceDir, path.join(world.projectDir(BOB, 'p'), '..', 'evil'));
    expect(await launch(BOB, 'evil')).toMatch(/symbolic link/);
    expect(await launch(BOB, 'evil --rebuild')).toMatch(/symbolic link/);
    expect(await exists('evil._.1002')).toBe(false);
    expect(await imageExists('ds01-1002/evil:latest')).toBe(false);
    // An image update for the linked project, as the bot would queue it after the modal.
    expect(await queueJob(sign(TEST_JOB_SECRET, buildJob(BOB, 'evil', ['requests'])), 'trust-evil-build')).toBe('failed');
    expect(readFileSync(path.join(aliceDir, 'Dockerfile')).equals(before)).toBe(true);
    expect(readdirSync(aliceDir).filter((f) => f.endsWith('.bak'))).toEqual([]);
  });

  it("a workspace that is itself a link to alice's workspace is refused too", async () => {
    const carolWs = world.addHome(CAROL);
    renameSync(carolWs, `${carolWs}.real`);
    symlinkSync(path.dirname(world.projectDir(ALICE, 'demo')), carolWs);
    expect(await launch(CAROL, 'demo')).toMatch(/symbolic link/);
    expect(await exists('demo._.1003')).toBe(false);
  });

  it('a folder swapped for a link to / after the container was made: the re-run removes it, / is never mounted', async () => {
    world.addProject(BOB, 'swap');
    await h.workers.get('gpu1')!.stop();
    const crashing = await h.startWorker({ hostId: 'gpu1', gpus: 'fake:4', env: { DS01_CHECK_INTERVAL_S: '86400', DS01_CRASH_AT: 'launch:after-create' } });
    const from = h.slack.calls.length;
    const r = await h.slash(BOB, 'launch swap');
    await h.responseTo(r.responseUrl);
    await crashing.waitForLine(/crash point launch:after-create/, 60_000);
    await crashing.exit();
    expect((await docker().getContainer('swap._.1002').inspect()).State.Running).toBe(false);
    const dir = world.projectDir(BOB, 'swap');
    renameSync(dir, `${dir}.moved`);
    symlinkSync('/', dir);
    await h.startWorker({ hostId: 'gpu1', gpus: 'fake:4', env: { DS01_CHECK_INTERVAL_S: '86400' } });
    const final = await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(BOB)(c) && /did not go through/.test(messageText(c.args)), 90_000);
    expect(messageText(final.args)).toMatch(/symbolic link/);
    expect(await exists('swap._.1002')).toBe(false);
  });

  it('a running container whose /workspace is not the verified folder is removed when its launch is re-run', async () => {
    world.addProject(BOB, 'mount');
    const elsewhere = path.join(world.dir, 'elsewhere');
    mkdirSync(elsewhere);
    const requestId = 'trustmount01';
    const c = await docker().createContainer({
      name: 'mount._.1002',
      Image: baseImage(),
      Cmd: ['sleep', 'infinity'],
      User: '1002:1002',
      Labels: { 'ds01.managed': 'true', 'ds01.user': 'bob', 'ds01.project': 'mount', 'ds01.request_id': requestId },
      HostConfig: { Init: true, Binds: [`${elsewhere}:/workspace`], CapDrop: ['ALL'] },
    });
    await c.start();
    const job = {
      kind: 'launch',
      requestId,
      owner: { slackUserId: BOB.slack_id, user: 'bob', uid: 1002 },
      requestedBy: 'bob',
      project: 'mount',
      reply: null,
      gpus: 1,
      rebuild: false,
    };
    expect(await queueJob(sign(TEST_JOB_SECRET, job), 'trust-mount')).toBe('failed');
    expect(await exists('mount._.1002')).toBe(false);
  });

  it("a FIFO named .dockerignore or Dockerfile in bob's project fails his build with a sentence; alice's launch and the heartbeat go on", async () => {
    world.addProject(BOB, 'fifo');
    execFileSync('mkfifo', [path.join(world.projectDir(BOB, 'fifo'), '.dockerignore')]);
    world.own(BOB, path.join(world.projectDir(BOB, 'fifo'), '.dockerignore'));
    world.addProject(BOB, 'fifo2');
    const df = path.join(world.projectDir(BOB, 'fifo2'), 'Dockerfile');
    execFileSync('rm', [df]);
    execFileSync('mkfifo', [df]);
    world.own(BOB, df);
    const r = redis();
    const beat = async () => (await readHostSnapshot(r, 'gpu1'))?.updatedAt ?? '';
    const before = await beat();
    const [bob1, bob2, alice] = await Promise.all([launch(BOB, 'fifo'), launch(BOB, 'fifo2'), launch(ALICE, 'demo')]);
    expect(bob1).toMatch(/\.dockerignore` in your project is not a regular file/);
    expect(bob2).toMatch(/Dockerfile` in your project is not a regular file/);
    expect(alice).toMatch(/is running/);
    // The heartbeat kept going: a newer snapshot than before the hostile builds.
    await h.workers.get('gpu1')!.waitForLine(/lifecycle pass|job done/, 30_000);
    expect(Date.parse(await beat())).toBeGreaterThan(Date.parse(before));
    await r.quit();
    expect(await exists('fifo._.1002')).toBe(false);
  });

  it("a Dockerfile built FROM alice's image (by name, through an ARG, by COPY --from or by image id) is refused", async () => {
    expect(await imageExists('ds01-1001/demo:latest')).toBe(true); // alice's, from the test above
    const aliceId = (await docker().getImage('ds01-1001/demo:latest').inspect()).Id;
    const variants = {
      steal1: 'FROM ds01-1001/demo:latest\n',
      steal2: 'ARG BASE=ds01-1001/demo:latest\nFROM ${BASE}\n',
      steal3: `FROM ${baseImage()}\nCOPY --from=docker.io/ds01-1001/demo:latest /workspace /stolen\n`,
      steal4: `FROM ${aliceId}\n`,
    };
    for (const [project, dockerfile] of Object.entries(variants)) {
      world.addProject(BOB, project, dockerfile);
      const text = await launch(BOB, project);
      expect(text, project).toMatch(/another user's DS01 image/);
      expect(await imageExists(`ds01-1002/${project}:latest`), project).toBe(false);
    }
    // His own images and public ones are fine.
    world.addProject(BOB, 'mine', `ARG DS01_USER_ID\nFROM ${baseImage()}\n`);
    expect(await launch(BOB, 'mine')).toMatch(/is running/);
    await docker().getContainer('mine._.1002').remove({ force: true });
  });

  it("a container labelled as alice's demo is not alice's: the lifecycle never retires her real one for it", async () => {
    const fake = await docker().createContainer({
      name: 'bobs-thing',
      Image: baseImage(),
      Cmd: ['sleep', 'infinity'],
      Labels: { 'ds01.managed': 'true', 'ds01.user': 'alice', 'ds01.project': 'demo', 'ds01.created_at': new Date(Date.now() - 48 * HOUR).toISOString() },
      HostConfig: { Init: true },
    });
    await fake.start();
    await lifecycle.checkAt(Date.now() + 1 * MIN);
    expect(await exists('demo._.1001')).toBe(true);
    await fake.remove({ force: true });
  });

  it('a .keep-alive in the future or a link to a busy file does not stop idle retirement; a keep-alive never extends the longest run', async () => {
    const user = BOB;
    for (const project of ['future', 'linked']) {
      world.addProject(user, project);
      const t0 = Date.parse(new Date().toISOString());
      expect(await launch(user, project)).toMatch(/is running/);
      const ka = path.join(world.projectDir(user, project), '.keep-alive');
      if (project === 'future') {
        writeFileSync(ka, '');
        world.own(user, ka);
        const future = new Date('2035-01-01T00:00:00Z');
        utimesSync(ka, future, future);
      } else {
        writeFileSync(path.join(world.projectDir(user, project), 'train.log'), 'busy\n');
        symlinkSync('train.log', ka);
      }
      await lifecycle.checkAt(t0 + 31 * MIN); // first CPU reading
      for (const m of [32, 33, 34]) await lifecycle.checkAt(t0 + m * MIN);
      await lifecycle.checkAt(t0 + 66 * MIN); // 32 min idle: past the 30 min student idle timeout
      expect(await exists(`${project}._.1002`), project).toBe(false);
    }

    // A good keep-alive file and a Slack keep-alive far ahead: the runtime limit still applies.
    world.addProject(BOB, 'longrun');
    const t0 = Date.now();
    expect(await launch(BOB, 'longrun')).toMatch(/is running/);
    const ka = path.join(world.projectDir(BOB, 'longrun'), '.keep-alive');
    writeFileSync(ka, '');
    world.own(BOB, ka);
    const info = await docker().getContainer('longrun._.1002').inspect();
    const r = redis();
    await r.hset(RedisKey.fakeGpuUtil('gpu1'), info.Config.Labels['ds01.gpu.uuids']!, '90'); // busy: only the runtime limit applies
    await r.set(RedisKey.keepalive('gpu1', 'longrun._.1002'), '2100-01-01T00:00:00.000Z');
    await r.quit();
    await lifecycle.checkAt(t0 + 24.2 * HOUR);
    expect(await exists('longrun._.1002')).toBe(false);
    await h.slack.waitFor((c) => c.args.channel === 'C0DS01NOTE' && /bob's `longrun` on gpu1 retired \(max runtime\)/.test(String(c.args.text)), 30_000);
  });

  it('a job written straight into Redis (unsigned, or signed with another secret, or altered) is dropped with a log line', async () => {
    expect((await launch(ALICE, 'demo')) || '').toMatch(/running/);
    const retire = {
      kind: 'retire',
      requestId: 'forged00001',
      owner: { slackUserId: ALICE.slack_id, user: 'alice', uid: 1001 },
      requestedBy: 'alice',
      project: 'demo',
      reply: null,
      reason: 'user',
      relaunch: false,
      confirmFirst: false,
    };
    expect(await queueJob(retire, 'forged-1')).toBe('failed');
    expect(await queueJob(sign('x'.repeat(64), retire), 'forged-2')).toBe('failed');
    const altered = { ...sign(TEST_JOB_SECRET, { ...retire, owner: { ...retire.owner, user: 'bob', uid: 1002 }, project: 'p' }), owner: retire.owner, project: 'demo' };
    expect(await queueJob(altered, 'forged-3')).toBe('failed');
    const lifecycleFromTheFuture = { kind: 'lifecycle', now: '2099-01-01T00:00:00.000Z' };
    expect(await queueJob(lifecycleFromTheFuture, 'forged-4')).toBe('failed');
    expect(await exists('demo._.1001')).toBe(true);
    expect(h.workers.get('gpu1')!.hasLine(/unsigned or its signature does not match; dropped/)).toBe(true);
  });

  it('an event written straight into Redis never reaches Slack', async () => {
    const events = new Queue(EVENTS_QUEUE, { connection: conn });
    const forged = {
      type: 'container.retired',
      requestId: 'forgedev001',
      host: 'gpu1',
      owner: { slackUserId: ALICE.slack_id, user: 'alice', uid: 1001 },
      project: 'demo',
      reply: null,
      at: new Date().toISOString(),
      container: 'demo._.1001',
      reason: 'admin',
      requestedBy: 'admin1',
      gpus: [],
      ranSeconds: 1,
      lostPackages: [],
      packagesUnknown: null,
      relaunch: false,
    };
    const from = h.slack.calls.length;
    await events.add('container.retired', forged);
    await events.close();
    // The outbox handles events one at a time, in order: a later marker means the forged one was handled.
    await h.bot.waitForLine(/event is unsigned or its signature does not match; dropped/, 30_000);
    expect(h.slack.calls.slice(from).some((c) => /demo` was retired/.test(messageText(c.args)))).toBe(false);
  });

  it('a host written straight into Redis (unsigned, or signed with another secret) is never shown with free GPUs and gets no launch', async () => {
    const forged = (hostId: string) =>
      HostSnapshot.parse({
        hostId,
        updatedAt: new Date().toISOString(),
        gpuMode: 'fake',
        gpus: [0, 1, 2, 3].map((i) => ({ slot: String(i), uuid: `GPU-${hostId}-${i}`, name: 'A100', gpuEq: 1, holder: null })),
        containers: [],
        images: [],
      });
    const other = 'o'.repeat(64);
    await conn
      .multi()
      .set(RedisKey.host('gpu8'), JSON.stringify(forged('gpu8')), 'EX', 300)
      .set(RedisKey.host('gpu9'), encodeSnapshot(other, forged('gpu9')), 'EX', 300)
      .sadd(RedisKey.hostsIndex, 'gpu8', 'gpu9')
      .publish(RedisKey.hostsChanged, JSON.stringify({ ttlS: 300, snapshot: forged('gpu8') }))
      .publish(RedisKey.hostsChanged, encodeHostsChanged(other, { ttlS: 300, snapshot: forged('gpu9') }))
      .publish(RedisKey.hostsChanged, encodeHostsChanged(other, { ttlS: 300, alive: 'gpu1' }))
      .exec();
    try {
      // A signed marker published after them: once the bot shows it, it has read the forged ones.
      const marker = { ...forged('gpumark'), gpus: [] };
      await writeHostSnapshot(conn, marker);
      let text = '';
      while (!text.includes('gpumark')) text = messageText((await h.slash(ALICE, 'gpus')).ack);
      expect(text).not.toMatch(/gpu[89](?!: down)/);
      world.addProject(ALICE, 'forgedhost');
      const final = await launch(ALICE, 'forgedhost');
      expect(final).toMatch(/is running/);
      expect(final).not.toMatch(/gpu[89]/);
      expect(await exists('forgedhost._.1001')).toBe(true);
    } finally {
      await conn.del(RedisKey.host('gpu8'), RedisKey.host('gpu9'), RedisKey.host('gpumark'));
      await conn.srem(RedisKey.hostsIndex, 'gpu8', 'gpu9', 'gpumark');
    }
  });
});

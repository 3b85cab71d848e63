import os from 'node:os';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, messageText } from '../support/harness.js';
import { freePort } from '../support/processes.js';
import { ALICE, docker, World, BOB, redis } from '../support/services.js';
import type { RecordedCall } from '../../src/local/slack-simulator.js';
import { HostSnapshot } from '../../src/contract/hosts.js';
import { readHostSnapshot } from '../support/hosts.js';

const ghost = { slack_id: 'U0GHOST', user: 'ghost', uid: 4242 };

describe('/ds01 launch, end to end (bot + worker processes, real Redis and Docker)', () => {
  const world = new World();
  const h = new Harness(world);
  let metricsPort = 0;

  beforeAll(async () => {
    world.addProject(ALICE, 'demo');
    world.addProject(ALICE, 'twin');
    metricsPort = await freePort();
    await h.start([{ hostId: 'gpu1', gpus: 'fake:4', env: { DS01_METRICS_PORT: String(metricsPort) } }]);
  });
  afterAll(() => h.stop());

  const finalMessage = (slackUser: string, project: string) =>
    h.slack.waitFor(
      (c) =>
        (c.method === 'chat.update' || c.method === 'chat.postMessage') &&
        /is running|already running|did not go through/.test(messageText(c.args)) &&
        messageText(c.args).includes(`\`${project}\``) &&
        String(c.args.channel).endsWith(slackUser.slice(1)),
      90_000,
      `the final launch message for ${project}`,
    );

  it('alice launches demo: queued at once, one message walks to running, and the container is DS01-shaped', async () => {
    const { status, responseUrl } = await h.slash(ALICE, 'launch demo');
    expect(status).toBe(200);
    const queued = await h.responseTo(responseUrl);
    expect(messageText(queued.args)).toMatch(/Launch of `demo` queued on gpu1/);

    const opened = await h.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === ALICE.slack_id);
    const running: RecordedCall = await finalMessage(ALICE.slack_id, 'demo');
    expect(running.method).toBe('chat.update');
    // Updated in place: the same message, not a stream of new ones.
    const ts = (h.slack.calls.find((c) => c === opened) && running.args.ts) as string;
    expect(ts).toBeTruthy();
    const updates = h.slack
      .callsOf('chat.update')
      .filter((c) => c.args.ts === ts)
      .map((c) => messageText(c.args));
    expect(updates.some((t) => /Build the image/.test(t))).toBe(true);
    expect(updates.some((t) => /Allocate a GPU/.test(t))).toBe(true);
    const text = messageText(running.args);
    expect(text).toContain('docker exec -it demo._.1001 bash');
    expect(text).toMatch(/gpu1/);
    expect(text).toMatch(/GPU 0/);
    expect(text).toMatch(/VS Code/);

    const info = await docker().getContainer('demo._.1001').inspect();
    expect(info.State.Running).toBe(true);
    expect(info.Config.Image).toBe('ds01-1001/demo:latest');
    const labels = info.Config.Labels;
    expect(labels['ds01.managed']).toBe('true');
    expect(labels['ds01.user']).toBe('alice');
    expect(labels['ds01.project']).toBe('demo');
    expect(labels['ds01.interface']).toBe('orchestration');
    expect(labels['ds01.work_mount']).toBe(world.projectDir(ALICE, 'demo'));
    expect(Date.parse(labels['ds01.created_at']!)).not.toBeNaN();
    expect(Date.parse(labels['ds01.gpu.allocated']!)).not.toBeNaN();
    expect(labels['ds01.gpu.uuids']).toMatch(/^GPU-[0-9a-f-]{36}$/);
    expect(info.Config.Env).toContain(`NVIDIA_VISIBLE_DEVICES=${labels['ds01.gpu.uuids']}`);
    expect(info.HostConfig.Binds).toEqual([`${world.projectDir(ALICE, 'demo')}:/workspace`]);
    expect(info.HostConfig.Init).toBe(true);
    expect(info.HostConfig.Privileged).toBe(false);
    // DS01 asks for 32 CPUs; this host has fewer, so the worker clamps and says so.
    expect(info.HostConfig.NanoCpus).toBeLessThanOrEqual(os.cpus().length * 1e9);
    expect(h.workers.get('gpu1')!.hasLine(/clamped to what the host has/)).toBe(true);
    // The image was built with DS01's build args.
    const exec = await docker()
      .getContainer('demo._.1001')
      .exec({ Cmd: ['cat', '/etc/ds01-build-user', '/workspace/train.py'], AttachStdout: true });
    const out = await new Promise<string>((resolve) => {
      void exec.start({}).then((s) => {
        let buf = '';
        s.on('data', (d: Buffer) => (buf += d.toString()));
        s.on('end', () => resolve(buf));
      });
    });
    expect(out).toContain('alice:1001:1001');
    expect(out).toContain('hello from the workspace');
  });

  it('launching demo again says it is already running and starts nothing new', async () => {
    const before = await docker().getContainer('demo._.1001').inspect();
    const { responseUrl } = await h.slash(ALICE, 'launch demo');
    await h.responseTo(responseUrl);
    const msg = await h.slack.waitFor((c) => c.method === 'chat.update' && /already running/.test(messageText(c.args)), 60_000);
    expect(messageText(msg.args)).toContain('docker exec -it demo._.1001 bash');
    const after = await docker().getContainer('demo._.1001').inspect();
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
  });

  it('a double submit starts one container', async () => {
    const [a, b] = await Promise.all([h.slash(ALICE, 'launch twin'), h.slash(ALICE, 'launch twin')]);
    const replies = await Promise.all([h.responseTo(a.responseUrl), h.responseTo(b.responseUrl)]);
    const texts = replies.map((r) => messageText(r.args));
    expect(texts.filter((t) => /queued on gpu1/.test(t))).toHaveLength(1);
    expect(texts.filter((t) => /already under way/.test(t))).toHaveLength(1);
    await finalMessage(ALICE.slack_id, 'twin');
    const list = await docker().listContainers({ all: true, filters: { label: ['ds01.project=twin'] } });
    expect(list).toHaveLength(1);
  });

  it('a Slack user who is not in the config is told they are not registered, and nothing runs', async () => {
    const r = await h.slash(ghost as never, 'launch demo');
    expect(String(r.ack.text)).toMatch(/not registered/);
    expect(String(r.ack.text)).toContain('#ds01-help');
    const list = await docker().listContainers({ all: true, filters: { label: ['ds01.user=ghost'] } });
    expect(list).toHaveLength(0);
  });

  it('an unknown project gets one clear sentence and no container', async () => {
    const { responseUrl } = await h.slash(ALICE, 'launch nosuchproject');
    await h.responseTo(responseUrl);
    const failed = await finalMessage(ALICE.slack_id, 'nosuchproject');
    expect(messageText(failed.args)).toMatch(/no project called `nosuchproject`/);
    expect(messageText(failed.args)).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    const list = await docker().listContainers({ all: true, filters: { label: ['ds01.project=nosuchproject'] } });
    expect(list).toHaveLength(0);
  });

  it('a project without a Dockerfile is explained', async () => {
    const dir = world.addProject(BOB, 'nodockerfile');
    rmSync(path.join(dir, 'Dockerfile'));
    const { responseUrl } = await h.slash(BOB, 'launch nodockerfile');
    await h.responseTo(responseUrl);
    const failed = await finalMessage(BOB.slack_id, 'nodockerfile');
    expect(messageText(failed.args)).toMatch(/has no Dockerfile/);
  });

  it('bad input gets a kind message and changes nothing', async () => {
    for (const text of ['launch ../../etc', 'launch demo --gpus lots', 'launch demo --privileged', 'launch "$(rm -rf /)"', 'frobnicate']) {
      const r = await h.slash(ALICE, text);
      expect(r.status).toBe(200);
      expect(String(r.ack.text).length).toBeGreaterThan(10);
    }
    const unknown = await h.slash(ALICE, 'frobnicate');
    expect(messageText(unknown.ack)).toContain('/ds01 launch');
    expect(messageText(unknown.ack)).toContain('/ds01 keepalive');
    const list = await docker().listContainers({ all: true, filters: { label: ['ds01.user=alice'] } });
    expect(list.map((c) => c.Names[0]).sort()).toEqual(['/demo._.1001', '/twin._.1001']);
  });

  it('/ds01 help lists every subcommand with a line each', async () => {
    const r = await h.slash(ALICE, 'help');
    const text = messageText(r.ack);
    for (const sub of ['launch', 'retire', 'image-update', 'status', 'gpus', 'limits', 'keepalive', 'help']) expect(text).toContain(`/ds01 ${sub}`);
  });

  it('the worker publishes its host snapshot with the allocation read from labels', async () => {
    const r = redis();
    try {
      const deadline = Date.now() + 15_000;
      let snap: HostSnapshot | null = null;
      // The snapshot is refreshed on every change and heartbeat; wait for the one after both launches.
      while (Date.now() < deadline) {
        snap = await readHostSnapshot(r, 'gpu1');
        if (snap && snap.gpus.filter((g) => g.holder?.user === 'alice').length === 2) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(snap!.gpus).toHaveLength(4);
      expect(
        snap!.gpus
          .filter((g) => g.holder?.user === 'alice')
          .map((g) => g.holder!.container)
          .sort(),
      ).toEqual(['demo._.1001', 'twin._.1001']);
      expect(snap!.images.map((i) => i.image).sort()).toEqual(['ds01-1001/demo:latest', 'ds01-1001/twin:latest']);
    } finally {
      await r.quit();
    }
  });

  it('the worker serves Prometheus metrics: jobs by outcome and GPUs by state', async () => {
    const deadline = Date.now() + 15_000;
    let body = '';
    while (Date.now() < deadline) {
      body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      if (/ds01_gpus\{state="allocated",host="gpu1"\} 2/.test(body)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toMatch(/ds01_gpus\{state="allocated",host="gpu1"\} 2/);
    expect(body).toMatch(/ds01_gpus\{state="free",host="gpu1"\} 2/);
    expect(body).toMatch(/ds01_jobs_total\{kind="launch",outcome="done",host="gpu1"\} [1-9]/);
    expect(body).toMatch(/ds01_jobs_total\{kind="launch",outcome="refused",host="gpu1"\} [1-9]/); // the unknown project
    expect(body).toMatch(/ds01_job_duration_seconds_count\{[^}]*kind="launch"[^}]*\} [1-9]/);
    // How long jobs waited on the queue (the benchmark's queue-pickup figure reads the log line).
    expect(body).toMatch(/ds01_job_queue_wait_seconds_count\{host="gpu1"\} [1-9]/);
    const started = h.workers
      .get('gpu1')!
      .output.filter((l) => l.includes('"job started"'))
      .map((l) => JSON.parse(l) as { jobId?: string; job?: string; waitedMs?: unknown });
    const demo = started.find((s) => s.job === 'launch' && s.jobId?.startsWith('launch-1001-demo-'));
    expect(typeof demo?.waitedMs).toBe('number');
    expect(demo!.waitedMs as number).toBeGreaterThanOrEqual(0);
  });
});

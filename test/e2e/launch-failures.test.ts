import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostSnapshot } from '../../src/contract/hosts.js';
import { RedisKey } from '../../src/contract/queues.js';
import { Harness, messageText } from '../support/harness.js';
import { ALICE, BOB, baseImage, docker, redis, World } from '../support/services.js';
import { readHostSnapshot, writeHostSnapshot } from '../support/hosts.js';

/**
 * The ways a launch can be refused or fail, each answered with one clear sentence, and the
 * worker dying mid-launch: the re-run finishes the half-made container instead of making another.
 */
describe('launch refusals and failures', () => {
  const world = new World();
  const h = new Harness(world);

  beforeAll(async () => {
    for (const p of ['a1', 'a2', 'a3']) world.addProject(ALICE, p);
    for (const p of ['b1', 'b2', 'crashy']) world.addProject(BOB, p);
    // Three simulated GPUs: alice's student quota is 2 GPU-equivalents.
    await h.start([{ hostId: 'gpu1', gpus: 'fake:3' }]);
  });
  afterAll(() => h.stop());

  const outcome = (user: string, project: string) =>
    h.slack.waitFor(
      (c) =>
        (c.method === 'chat.update' || c.method === 'chat.postMessage') &&
        String(c.args.channel).endsWith(user.slice(1)) &&
        messageText(c.args).includes(`\`${project}\``) &&
        /is running|did not go through|in line/.test(messageText(c.args)),
      90_000,
      `the outcome of launching ${project}`,
    );

  const launch = async (user: typeof ALICE, project: string) => {
    const r = await h.slash(user, `launch ${project}`);
    await h.responseTo(r.responseUrl);
    return messageText((await outcome(user.slack_id, project)).args);
  };

  /** Clicks [Leave queue] on the user's waiting launch of `project`; resolves when they are told. */
  const leaveQueue = async (user: typeof ALICE, project: string) => {
    const msg = [...h.slack.calls]
      .reverse()
      .find((c) => String(c.args.channel).endsWith(user.slack_id.slice(1)) && messageText(c.args).includes(`\`${project}\``) && /in line/.test(messageText(c.args)))!;
    const button = (msg.args.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>)
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === 'gpu_queue_leave');
    const value = button!.value!;
    const before = h.slack.calls.length;
    await h.interact({
      type: 'block_actions',
      user: { id: user.slack_id, username: user.user, team_id: 'T0DS01' },
      api_app_id: 'A0DS01BOT',
      team: { id: 'T0DS01', domain: 'ds01' },
      container: { type: 'message', message_ts: String(msg.args.ts ?? '1'), channel_id: String(msg.args.channel), is_ephemeral: false },
      channel: { id: String(msg.args.channel), name: 'directmessage' },
      message: { type: 'message', ts: String(msg.args.ts ?? '1'), text: 'x' },
      trigger_id: '1.2.3',
      response_url: h.slack.responseUrl(),
      actions: [{ type: 'button', action_id: 'gpu_queue_leave', block_id: 'b', value, action_ts: '1795710001.0' }],
    });
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= before && /You left the GPU queue/.test(messageText(c.args)), 30_000);
  };

  it('alice reaches her GPU quota: the third launch waits for one of her own, says why, and can leave', async () => {
    expect(await launch(ALICE, 'a1')).toMatch(/is running/);
    expect(await launch(ALICE, 'a2')).toMatch(/is running/);
    const third = await launch(ALICE, 'a3');
    expect(third).toMatch(/1st in line for 1 GPU on any host/);
    expect(third).toMatch(/at your group's GPU or container limit/);
    expect((await docker().listContainers({ all: true, filters: { label: ['ds01.project=a3'] } })).length).toBe(0);
    await leaveQueue(ALICE, 'a3');
  });

  it('bob finds every GPU taken: his launch waits in the GPU queue, told where he stands', async () => {
    expect(await launch(BOB, 'b1')).toMatch(/is running/);
    const second = await launch(BOB, 'b2');
    expect(second).toMatch(/in line for 1 GPU/);
    expect(second).toMatch(/No GPU you may use is free/);
    expect((await docker().listContainers({ all: true, filters: { label: ['ds01.project=b2'] } })).length).toBe(0);
    await leaveQueue(BOB, 'b2');
  });

  it('two launches never get the same GPU', async () => {
    const list = await docker().listContainers({ all: true, filters: { label: ['ds01.managed=true'] } });
    const uuids = list.map((c) => c.Labels['ds01.gpu.uuids']);
    expect(uuids).toHaveLength(3);
    expect(new Set(uuids).size).toBe(3);
  });

  it('the worker dies after creating the container; the re-run starts that same container', async () => {
    // Free bob's GPUs first.
    for (const c of await docker().listContainers({ all: true, filters: { label: ['ds01.user=bob'] } })) {
      await docker().getContainer(c.Id).remove({ force: true });
    }
    // Only a worker that will die mid-launch consumes the queue.
    await h.workers.get('gpu1')?.stop();
    const crashing = await h.startWorker({ hostId: 'gpu1', gpus: 'fake:3', env: { DS01_CRASH_AT: 'launch:after-create' } });
    const r = await h.slash(BOB, 'launch crashy');
    await h.responseTo(r.responseUrl);
    await crashing.waitForLine(/crash point launch:after-create/, 30_000).catch((e) => {
      throw new Error(
        String(e) +
          '\nBOT:\n' +
          h.bot.output.slice(-15).join('\n') +
          '\nSLACK:\n' +
          h.slack.calls
            .slice(-5)
            .map((c) => JSON.stringify(c.args).slice(0, 400))
            .join('\n'),
      );
    });
    await crashing.exit();
    const half = await docker().getContainer('crashy._.1002').inspect();
    expect(half.State.Status).toBe('created');
    // A fresh worker picks the stalled job up and finishes it.
    await h.startWorker({ hostId: 'gpu1', gpus: 'fake:3' });
    const done = messageText((await outcome(BOB.slack_id, 'crashy')).args);
    expect(done).toMatch(/is running/);
    const after = await docker().getContainer('crashy._.1002').inspect();
    expect(after.Id).toBe(half.Id);
    expect(after.State.Running).toBe(true);
    expect((await docker().listContainers({ all: true, filters: { label: ['ds01.project=crashy'] } })).length).toBe(1);
    // b2 left the queue while its image was built: the GPU bob's b1 freed went to crashy, not to it.
    expect((await docker().listContainers({ all: true, filters: { label: ['ds01.project=b2'] } })).length).toBe(0);
  });

  it('SIGTERM while a launch is building: the worker finishes that launch, then exits cleanly', async () => {
    world.addProject(BOB, 'slowbuild', [`FROM ${baseImage()}`, 'RUN sleep 2', 'RUN echo built > /etc/built', 'CMD ["/bin/sh"]', ''].join('\n'));
    // Every GPU free (earlier tests leave containers behind): the launch must build and then start,
    // not wait in the GPU queue after its build.
    for (const c of await docker().listContainers({ all: true, filters: { label: ['ds01.managed=true'] } })) {
      await docker().getContainer(c.Id).remove({ force: true });
    }
    // …and the hosts' published view (what the bot places by) has caught up with that.
    const conn = redis();
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const snap = await readHostSnapshot(conn, 'gpu1');
        if (snap?.gpus.every((g) => g.holder === null)) break;
        if (Date.now() > deadline) throw new Error('the host view still shows GPUs held');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await conn.quit();
    }
    const worker = h.workers.get('gpu1')!;
    const from = h.slack.calls.length;
    const building = h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && c.method === 'chat.update' && /Launching slowbuild: building/.test(String(c.args.text)), 60_000);
    const r = await h.slash(BOB, 'launch slowbuild');
    await h.responseTo(r.responseUrl);
    await building;
    await worker.stop('SIGTERM');
    expect(await worker.exit()).toBe(0);
    expect(worker.hasLine(/shutting down: finishing running jobs/)).toBe(true);
    // This worker built the image and started the container (its own log says so) before it exited.
    expect(worker.hasLine(/container running/), worker.output.slice(-15).join('\n')).toBe(true);
    expect(worker.output.findIndex((l) => /container running/.test(l))).toBeLessThan(worker.output.findIndex((l) => /worker stopped/.test(l)));
    await h.startWorker({ hostId: 'gpu1', gpus: 'fake:3' });
  });

  it('the engine is down: after retries, one clear sentence, and nothing half-made', async () => {
    const r = redis();
    try {
      // A host whose worker cannot reach its Docker engine; it owns alice's project "a9" per its
      // last snapshot, so the bot sends the launch there.
      await h.startWorker({ hostId: 'gpudown', gpus: 'fake:1', dockerHost: 'unix:///tmp/ds01-no-such-engine.sock', env: { DS01_HEARTBEAT_S: '3600' } });
      const snap: HostSnapshot = {
        hostId: 'gpudown',
        updatedAt: new Date().toISOString(),
        gpuMode: 'fake',
        gpus: [],
        containers: [
          {
            name: 'a9._.1001',
            user: 'alice',
            project: 'a9',
            state: 'exited',
            image: 'ds01-1001/a9:latest',
            gpuUuids: [],
            createdAt: null,
            protected: false,
            onlyHere: [],
            managed: true,
          },
        ],
        images: [],
      };
      await writeHostSnapshot(r, snap);
      world.addProject(ALICE, 'a9');
      const text = await launch(ALICE, 'a9');
      expect(text).toMatch(/Docker engine on gpudown is not answering/);
      expect(text).not.toMatch(/ENOENT|connect|Error:/);
    } finally {
      await r.quit();
    }
  });

  it('no worker online: the bot says so and queues nothing', async () => {
    const r = redis();
    try {
      await Promise.all([...h.workers.values()].map((w) => w.stop()));
      h.workers.clear();
      const ids = await r.smembers(RedisKey.hostsIndex);
      await r.del(...ids.map((id) => RedisKey.host(id)));
      const res = await h.slash(ALICE, 'launch a3');
      const reply = await h.responseTo(res.responseUrl);
      expect(messageText(reply.args)).toMatch(/No GPU host is online/);
    } finally {
      await r.quit();
    }
  });
});

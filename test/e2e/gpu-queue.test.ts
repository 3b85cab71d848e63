import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostQueueName } from '../../src/contract/queues.js';
import { sign } from '../../src/contract/signing.js';
import type { RecordedCall } from '../../src/local/slack-simulator.js';
import { Harness, messageText } from '../support/harness.js';
import { TEST_JOB_SECRET } from '../support/processes.js';
import { ADMIN, ALICE, BOB, docker, dockerHost, redis, World, type TestUser } from '../support/services.js';
import { engine, ensureSecondEngine, resetEngine } from '../support/second-engine.js';

const CAROL: TestUser = { slack_id: 'U0CAROL', user: 'carol', uid: 1003, group: 'student' };
const DAVE: TestUser = { slack_id: 'U0DAVE', user: 'dave', uid: 1004, group: 'student' };

/**
 * Two real Docker engines, two workers (one fake GPU each) on one Redis, one bot: placement across
 * the hosts, the fair GPU queue ([Leave queue], admin removal, the DM when a GPU frees), and a host
 * whose worker is killed: shown down, its waiting launch placed on the other host, and its containers
 * read back from the engine when it returns.
 */
describe('GPUs across hosts: placement, the fair GPU queue, a host going down', () => {
  const world = new World([ALICE, BOB, CAROL, DAVE, ADMIN]);
  const h = new Harness(world);
  let engineB = '';
  const hostEnv = { DS01_HOST_TTL_S: '3' };

  beforeAll(async () => {
    engineB = await ensureSecondEngine();
    await resetEngine(engineB);
    for (const [u, p] of [
      [ALICE, 'a1'],
      [ALICE, 'a2'],
      [BOB, 'b1'],
      [CAROL, 'c1'],
      [CAROL, 'c2'],
      [DAVE, 'd1'],
      [DAVE, 'd2'],
    ] as const)
      world.addProject(u, p);
    await h.start([
      { hostId: 'gpuA', gpus: 'fake:1', dockerHost: dockerHost(), env: hostEnv },
      { hostId: 'gpuB', gpus: 'fake:1', dockerHost: engineB, env: hostEnv },
    ]);
  });
  afterAll(async () => {
    await h.stop();
    await resetEngine(engineB);
  });

  const dm = (u: TestUser) => (c: RecordedCall) => (c.method === 'chat.update' || c.method === 'chat.postMessage') && String(c.args.channel).endsWith(u.slack_id.slice(1));
  const waitDm = (u: TestUser, re: RegExp, after = 0) =>
    h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= after && dm(u)(c) && re.test(messageText(c.args)), 90_000, `a DM to ${u.user} matching ${re}`);
  const running = async (d: ReturnType<typeof docker>, name: string) =>
    (
      await d
        .getContainer(name)
        .inspect()
        .catch(() => null)
    )?.State.Running === true;
  const queueText = async (u: TestUser = ALICE) => messageText((await h.slash(u, 'queue')).ack);
  /** Asks `/ds01 <sub>` (answered in the ack) until the answer matches. */
  const askUntil = async (u: TestUser, sub: string, re: RegExp): Promise<string> => {
    let text = '';
    while (!re.test(text)) text = messageText((await h.slash(u, sub)).ack);
    return text;
  };
  const click = (u: TestUser, actionId: string, value: string) =>
    h.interact({
      type: 'block_actions',
      user: { id: u.slack_id, username: u.user, team_id: 'T0DS01' },
      api_app_id: 'A0DS01BOT',
      team: { id: 'T0DS01', domain: 'ds01' },
      container: { type: 'message', message_ts: '1795710000.000100', channel_id: `D${u.slack_id}`, is_ephemeral: false },
      channel: { id: `D${u.slack_id}`, name: 'directmessage' },
      message: { type: 'message', ts: '1795710000.000100', text: 'queue' },
      trigger_id: '1.2.3',
      response_url: h.slack.responseUrl(),
      actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: '1795710001.0' }],
    });
  const buttonValue = (args: Record<string, unknown>, actionId: string): string => {
    const found: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (o.action_id === actionId && typeof o.value === 'string') found.push(o.value);
        Object.values(o).forEach(walk);
      }
    };
    walk(args.blocks);
    return found[0]!;
  };

  it('launches spread over the two hosts: least allocated first', async () => {
    await askUntil(ALICE, 'gpus', /gpuA: 1\/1 free; gpuB: 1\/1 free/);
    await h.slash(ALICE, 'launch a1');
    await waitDm(ALICE, /`a1`[\s\S]*is running/);
    expect(await running(docker(), 'a1._.1001')).toBe(true);
    await askUntil(BOB, 'gpus', /gpuA: 0\/1 free/);
    await h.slash(BOB, 'launch b1');
    await waitDm(BOB, /`b1`[\s\S]*is running/);
    expect(await running(engine(engineB), 'b1._.1002')).toBe(true);
  });

  it("no GPU free: launches wait in a fair order, each person's first before anyone's second", async () => {
    await askUntil(CAROL, 'gpus', /gpuA: 0\/1 free; gpuB: 0\/1 free/);
    const c1 = await h.slash(CAROL, 'launch c1');
    const c1Reply = messageText((await h.responseTo(c1.responseUrl)).args);
    expect(c1Reply).toMatch(/1st in line for 1 GPU on any host/);
    const d1 = await h.slash(DAVE, 'launch d1');
    expect(messageText((await h.responseTo(d1.responseUrl)).args)).toMatch(/2nd in line for 1 GPU on any host/);
    const c2 = await h.slash(CAROL, 'launch c2');
    expect(messageText((await h.responseTo(c2.responseUrl)).args)).toMatch(/3rd in line/);
    // Alice holds 1 of her 2 GPUs: her first waiting launch goes ahead of carol's second.
    const a2 = await h.slash(ALICE, 'launch a2');
    const a2Reply = await h.responseTo(a2.responseUrl);
    expect(messageText(a2Reply.args)).toMatch(/3rd in line/);
    expect(buttonValue(a2Reply.args, 'gpu_queue_leave')).toMatch(/^r/);
    // The hosts check each project and put it in the queue with the turn it got on arrival.
    const text = await askUntil(ALICE, 'queue', /4 launches waiting/);
    const order = [...text.matchAll(/\*(\w+)\*(?: \(you\))? — `(\w+)`/g)].map((m) => `${m[1]}/${m[2]}`);
    expect(order).toEqual(['carol/c1', 'dave/d1', 'alice/a2', 'carol/c2']);
    // Nothing of theirs was started on a GPU someone holds.
    for (const n of ['c1._.1003', 'd1._.1004', 'c2._.1003', 'a2._.1001']) expect((await running(docker(), n)) || (await running(engine(engineB), n))).toBe(false);
  });

  it("[Leave queue] takes out only your own; an admin can remove anyone's, and its owner is told", async () => {
    const carolRow = (await h.slash(CAROL, 'queue')).ack as Record<string, unknown>;
    const c2Value = ((carolRow.blocks as Array<Record<string, unknown>>).find((b) => /`c2`/.test(JSON.stringify(b)))!.accessory as { value: string }).value;
    // Bob clicks a leave button carrying carol's request: refused, nothing changes.
    const before = h.slack.calls.length;
    await click(BOB, 'gpu_queue_leave', c2Value);
    await waitDm(BOB, /someone else's/, before);
    expect(await queueText()).toMatch(/4 launches waiting/);
    // An admin removes it; carol is told.
    await click(ADMIN, 'gpu_queue_remove', c2Value);
    await waitDm(CAROL, /taken out of the GPU queue by admin1/, before);
    // Dave leaves with the button on his own message.
    const davesMsg = h.slack.calls.find((c) => dm(DAVE)(c) && /in line/.test(messageText(c.args)) && buttonValue(c.args, 'gpu_queue_leave'))!;
    await click(DAVE, 'gpu_queue_leave', buttonValue(davesMsg.args, 'gpu_queue_leave'));
    await waitDm(DAVE, /You left the GPU queue/, before);
    const text = await askUntil(ALICE, 'queue', /2 launches waiting/);
    expect([...text.matchAll(/\*(\w+)\*(?: \(you\))? — `(\w+)`/g)].map((m) => `${m[1]}/${m[2]}`)).toEqual(['carol/c1', 'alice/a2']);
    expect(messageText((await h.slash(ALICE, 'status')).ack)).toMatch(/Waiting for a GPU[\s\S]*`a2` — 2nd in line/);
  });

  it('when a GPU frees, the first in line starts by itself and its owner gets a DM', async () => {
    // Launches whose image is still being built don't hold up others: wait until both are ready.
    let text = '';
    while (!/2 launches waiting/.test(text) || /still checking/.test(text)) text = await queueText();
    // Carol has her App Home open: it shows her waiting launch, and follows the queue from now on.
    const homeOf = (u: TestUser, re: RegExp, after: number) =>
      h.slack.waitFor(
        (c) => h.slack.calls.indexOf(c) >= after && c.method === 'views.publish' && c.args.user_id === u.slack_id && re.test(messageText(c.args.view as Record<string, unknown>)),
        60_000,
        `${u.user}'s App Home matching ${re}`,
      );
    const opened = h.slack.calls.length;
    await h.openHome(CAROL, 'Ev0QUEUEHOME1');
    await homeOf(CAROL, /Waiting for a GPU[\s\S]*`c1` — 1st in line/, opened);
    const before = h.slack.calls.length;
    await h.slash(ALICE, 'retire a1 --force');
    const ready = await waitDm(CAROL, /Your GPU is ready: `c1` is running on gpuA/, before);
    expect(ready.method).toBe('chat.postMessage');
    expect(await running(docker(), 'c1._.1003')).toBe(true);
    // The launch's own progress message was updated to running as well.
    await waitDm(CAROL, /`c1`[\s\S]*is running/, before);
    expect(messageText((await h.slash(ALICE, 'status')).ack)).toMatch(/`a2` — 1st in line/);
    // Her Home was published again by itself, without the launch that got its GPU.
    const live = await homeOf(CAROL, /^(?![\s\S]*Waiting for a GPU)/, before);
    expect(live.args.user_id).toBe(CAROL.slack_id);
  });

  it('a worker killed with SIGKILL: its host is shown down, its waiting launch runs elsewhere, and on return its containers are read from the engine', async () => {
    // A launch the bot had just put on gpuB's queue when its worker died.
    await h.workers.get('gpuB')!.stop('SIGKILL');
    const q = new Queue(hostQueueName('gpuB'), { connection: redis() });
    const job = {
      kind: 'launch',
      requestId: 'rdead00000001',
      owner: { slackUserId: DAVE.slack_id, user: 'dave', uid: 1004 },
      requestedBy: 'dave',
      project: 'd2',
      reply: null,
      gpus: 1,
      rebuild: false,
      waited: false,
    };
    await q.add('launch', sign(TEST_JOB_SECRET, job), { jobId: 'launch-1004-d2-rdead00000001' });
    await q.close();
    const gpus = await askUntil(ALICE, 'gpus', /gpuB: down/);
    expect(gpus).toMatch(/gpuB\* — :red_circle: down/);
    // Dave's launch went back to the GPU queue, behind alice's a2.
    const text = await askUntil(ALICE, 'queue', /`d2`/);
    expect([...text.matchAll(/\*(\w+)\*(?: \(you\))? — `(\w+)`/g)].map((m) => `${m[1]}/${m[2]}`)).toEqual(['alice/a2', 'dave/d2']);
    // Carol's container goes: a2 starts on gpuA; then a2 goes: d2 starts on gpuA, never on the dead host.
    await h.slash(CAROL, 'retire c1 --force');
    await waitDm(ALICE, /Your GPU is ready: `a2` is running on gpuA/);
    await h.slash(ALICE, 'retire a2 --force');
    await h.slack.waitFor(
      (c) => c.method === 'chat.postMessage' && String(c.args.channel) === DAVE.slack_id && /Your GPU is ready: `d2` is running on gpuA/.test(messageText(c.args)),
      90_000,
    );
    expect(await running(docker(), 'd2._.1004')).toBe(true);
    expect((await engine(engineB).listContainers({ all: true, filters: { name: ['d2._.1004'] } })).length).toBe(0);
    // gpuB comes back: bob's container is found on its engine, holding its GPU.
    await h.startWorker({ hostId: 'gpuB', gpus: 'fake:1', dockerHost: engineB, env: hostEnv });
    const back = await askUntil(ALICE, 'gpus', /gpuB: 0\/1 free/);
    expect(back).toMatch(/GPU 0 Fake GPU — bob, `b1`/);
  });
});

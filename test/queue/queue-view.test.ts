import { afterAll, describe, expect, it } from 'vitest';
import { RedisKey } from '../../src/contract/queues.js';
import { HostRegistry } from '../../src/hosts/registry.js';
import { GpuQueue, type QueueEntry } from '../../src/queue/gpu-queue.js';
import { redis } from '../support/services.js';

const SECRET = 'v'.repeat(64);

/**
 * On the real Redis: the bot's in-memory GPU queue follows each change by reading the one entry the
 * change names, stays in fair order, and drops an entry rewritten without the secret.
 */
describe("the bot's in-memory GPU queue", () => {
  const r = redis();
  const q = new GpuQueue(r, SECRET);
  const view = new HostRegistry(r, SECRET, new GpuQueue(r, SECRET));
  const added: string[] = [];
  afterAll(async () => {
    await view.close();
    for (const id of added) await q.take(id);
    await r.quit();
  });

  const add = async (n: number, user: string) => {
    const requestId = `qv${user}${String(n).padStart(6, '0')}`;
    added.push(requestId);
    await q.add({
      requestId,
      owner: { slackUserId: `U0${user.toUpperCase()}`, user, uid: 4000 + user.charCodeAt(0) },
      requestedBy: user,
      project: `p${n}`,
      gpus: 1,
      rebuild: false,
      reply: null,
      host: null,
    });
    return requestId;
  };
  const mine = () => (view.view()?.queue ?? []).filter((e) => added.includes(e.requestId));
  /** Resolves once the view's queue (ours only) satisfies `ok`: checked now and after every reload. */
  const until = (ok: (queue: QueueEntry[]) => boolean) =>
    new Promise<QueueEntry[]>((resolve) => {
      if (ok(mine())) return resolve(mine());
      view.onQueueChange(() => {
        if (ok(mine())) resolve(mine());
      });
    });
  const zrangeCalls = async () => Number(/cmdstat_zrange:calls=(\d+)/.exec(await r.info('commandstats'))?.[1] ?? 0);

  it('follows joins and leaves entry by entry, in fair order, without reading the whole queue', async () => {
    await view.live(3_600_000);
    const before = await zrangeCalls();
    const a1 = await add(1, 'ann');
    const a2 = await add(2, 'ann');
    const b1 = await add(3, 'bob');
    // ann's second request waits behind bob's first.
    expect((await until((x) => x.length === 3)).map((e) => e.requestId)).toEqual([a1, b1, a2]);
    for (let i = 4; i < 40; i++) await add(i, 'cat');
    await until((x) => x.length === 39);
    await q.take(a1);
    // ann's second request is now her first waiting one, and it came before bob's.
    expect((await until((x) => !x.some((e) => e.requestId === a1))).slice(0, 2).map((e) => e.requestId)).toEqual([a2, b1]);
    // Every change above was read by its id: the whole queue (ZRANGE) was never read again.
    expect((await zrangeCalls()) - before).toBe(0);
  });

  it('drops an entry rewritten without the secret when its change is announced', async () => {
    const victim = mine()[0]!.requestId;
    const raw = JSON.parse((await r.hget(RedisKey.gpuQueueEntries, victim))!) as Record<string, unknown>;
    await r.hset(RedisKey.gpuQueueEntries, victim, JSON.stringify({ ...raw, project: 'forged' }));
    await r.publish(RedisKey.gpuQueueChanged, victim);
    const after = await until((x) => !x.some((e) => e.requestId === victim));
    expect(after.some((e) => e.project === 'forged')).toBe(false);
  });

  it('reads the whole queue again on a message that is not an entry id, and keeps what is true', async () => {
    const expected = (await q.list()).filter((e) => added.includes(e.requestId)).map((e) => e.requestId);
    const before = await zrangeCalls();
    // A huge, nonsense message: the view reloads in full (a ZRANGE) and still shows exactly the queue.
    const reloaded = new Promise<void>((resolve) => view.onQueueChange(() => resolve()));
    await r.publish(RedisKey.gpuQueueChanged, 'x'.repeat(1_000_000));
    await reloaded;
    expect((await zrangeCalls()) - before).toBeGreaterThanOrEqual(1);
    expect(mine().map((e) => e.requestId)).toEqual(expected);
  });
});

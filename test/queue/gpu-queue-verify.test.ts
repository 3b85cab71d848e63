import { afterAll, describe, expect, it } from 'vitest';
import { RedisKey } from '../../src/contract/queues.js';
import { sign } from '../../src/contract/signing.js';
import { GpuQueue } from '../../src/queue/gpu-queue.js';
import { redis } from '../support/services.js';

const SECRET = 'q'.repeat(64);

/** On the real Redis: entries are verified once per stored bytes, and a rewritten entry is still dropped. */
describe('GPU queue entries are verified once, and again when their bytes change', () => {
  const r = redis();
  const q = new GpuQueue(r, SECRET);
  const ids = ['vq000000001', 'vq000000002'];
  afterAll(async () => {
    for (const id of ids) await q.take(id);
    await r.quit();
  });

  it('lists the same entries from memory, drops one rewritten in Redis, and takes a re-signed rewrite', async () => {
    for (const [i, requestId] of ids.entries()) {
      await q.add({
        requestId,
        owner: { slackUserId: `U0VQ${i}`, user: `vq${i}`, uid: 3000 + i },
        requestedBy: `vq${i}`,
        project: 'p',
        gpus: 1,
        rebuild: false,
        reply: null,
        host: null,
      });
    }
    const mine = async () => (await q.list()).filter((e) => ids.includes(e.requestId));
    const first = await mine();
    expect(first.map((e) => e.requestId)).toEqual(ids);
    // Unchanged bytes: the very same (already verified) entries come back.
    const again = await mine();
    expect(again[0]).toBe(first[0]);

    // Rewritten in Redis without the secret: another project, old signature. Dropped.
    const raw = JSON.parse((await r.hget(RedisKey.gpuQueueEntries, ids[0]!))!) as Record<string, unknown>;
    await r.hset(RedisKey.gpuQueueEntries, ids[0]!, JSON.stringify({ ...raw, project: 'forged' }));
    expect((await mine()).map((e) => e.requestId)).toEqual([ids[1]]);
    expect(await r.zscore(RedisKey.gpuQueue, ids[0]!)).toBeNull();

    // The second one rewritten and signed with the right secret (as a worker would) is read afresh.
    const raw2 = JSON.parse((await r.hget(RedisKey.gpuQueueEntries, ids[1]!))!) as Record<string, unknown>;
    const { sig: _sig, ...payload } = raw2;
    await r.hset(RedisKey.gpuQueueEntries, ids[1]!, JSON.stringify(sign(SECRET, { ...payload, project: 'moved' })));
    expect((await mine()).map((e) => e.project)).toEqual(['moved']);
  });
});

import type { Redis } from 'ioredis';
import { z } from 'zod';
import { Person, ReplyTarget, RequestId } from '../contract/jobs.js';
import { RedisKey } from '../contract/queues.js';
import { sign, verify } from '../contract/signing.js';
import { ProjectName } from '../ds01/naming.js';

/**
 * The GPU queue: launches waiting for a GPU, one queue for every host and every bot replica, in Redis.
 * Entries are signed like jobs (a payload written to Redis by anyone else is dropped). Taking an entry
 * out is atomic (ZREM decides), so two workers that both see a GPU free never start the same launch.
 *
 * Order is fair, not just first come first served: each user's first waiting request comes before
 * anyone's second, then by arrival (see `fairOrder`).
 */
export const QueueEntry = z.object({
  requestId: RequestId,
  owner: Person,
  requestedBy: z.string().min(1),
  project: ProjectName,
  gpus: z.number().int().min(1).max(16),
  rebuild: z.boolean(),
  reply: ReplyTarget,
  seq: z.number().int().min(0),
  enqueuedAt: z.iso.datetime(),
  /** Only this host may run it (its workspace or container lives there); null for any host. */
  host: z.string().nullable(),
  /**
   * Holds its place while its first host checks the project and builds the image; no host takes it
   * until that host makes it ready (or finds a GPU for it at once and takes it out).
   */
  pending: z.boolean().default(false),
});
export type QueueEntry = z.infer<typeof QueueEntry>;

/** Each user's k-th waiting request after everyone's (k-1)-th; within a round, by arrival. */
export function fairOrder<T extends { seq: number; owner: { user: string } }>(entries: T[]): T[] {
  const seen = new Map<string, number>();
  const ranked = [...entries]
    .sort((a, b) => a.seq - b.seq)
    .map((e) => {
      const round = seen.get(e.owner.user) ?? 0;
      seen.set(e.owner.user, round + 1);
      return { e, round };
    });
  ranked.sort((a, b) => a.round - b.round || a.e.seq - b.e.seq);
  return ranked.map((r) => r.e);
}

type Turn = { requestId: string; seq: number; owner: { user: string } };

/**
 * Where `entry` stands (1-based) among `queue` in fair order, `queue` itself in fair order (it may
 * hold `entry` or not): two passes, no sort, so a launch learns its place without reading the queue.
 */
export function fairPosition(queue: readonly Turn[], entry: Turn): number {
  // In fair order a user's k-th appearance is their round k-1 (their entries come round by round).
  const seenOf = new Map<string, number>();
  const rounds: number[] = [];
  let round = 0;
  for (const e of queue) {
    const r = seenOf.get(e.owner.user) ?? 0;
    seenOf.set(e.owner.user, r + 1);
    rounds.push(r);
    if (e.owner.user === entry.owner.user && e.requestId !== entry.requestId && e.seq < entry.seq) round++;
  }
  let ahead = 0;
  queue.forEach((e, i) => {
    if (e.requestId === entry.requestId) return;
    const r = rounds[i]!;
    if (r < round || (r === round && e.seq < entry.seq)) ahead++;
  });
  return ahead + 1;
}

/** 1 → "1st", 2 → "2nd", 11 → "11th", 23 → "23rd". */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}

/** "2nd in line for 1 GPU on any host". */
export function placeText(position: number, gpus: number, host: string | null): string {
  return `${ordinal(position)} in line for ${gpus} GPU${gpus === 1 ? '' : 's'} on ${host ? host : 'any host'}`;
}

// ARGV[4] = '1': only replace an entry that is still there (its owner may have left meanwhile).
const ADD = `if ARGV[4] == '1' and redis.call('zscore', KEYS[1], ARGV[1]) == false then return 0 end
redis.call('zadd', KEYS[1], 'NX', ARGV[2], ARGV[1]) redis.call('hset', KEYS[2], ARGV[1], ARGV[3]) return 1`;
const TAKE = `if redis.call('zrem', KEYS[1], ARGV[1]) == 1 then local v = redis.call('hget', KEYS[2], ARGV[1]) redis.call('hdel', KEYS[2], ARGV[1]) return v end return false`;

/** Most entries read at once; a queue longer than this is an incident, not a workload. */
const MAX_ENTRIES = 5000;

export class GpuQueue {
  constructor(
    private readonly redis: Redis,
    private readonly secret: string,
  ) {}

  /** A new turn in the queue (its arrival): give it to `add` as `place`. */
  async nextTurn(): Promise<{ seq: number; enqueuedAt: string }> {
    return { seq: await this.redis.incr(RedisKey.gpuQueueSeq), enqueuedAt: new Date().toISOString() };
  }

  /**
   * Adds a launch, or replaces its entry (keeping `place.seq` when it already had a turn). With
   * `onlyIfPresent`, only replaces: null when the entry is gone (its owner left the queue).
   */
  async add(
    entry: z.input<typeof QueueEntry> extends infer T ? Omit<T, 'seq' | 'enqueuedAt'> : never,
    place?: { seq: number; enqueuedAt: string },
    opts: { onlyIfPresent?: boolean } = {},
  ): Promise<QueueEntry | null> {
    const seq = place?.seq ?? (await this.redis.incr(RedisKey.gpuQueueSeq));
    const full = QueueEntry.parse({ ...entry, seq, enqueuedAt: place?.enqueuedAt ?? new Date().toISOString() });
    const done = await this.redis.eval(
      ADD,
      2,
      RedisKey.gpuQueue,
      RedisKey.gpuQueueEntries,
      full.requestId,
      String(seq),
      JSON.stringify(sign(this.secret, full)),
      opts.onlyIfPresent ? '1' : '0',
    );
    if (done !== 1) return null;
    await this.redis.publish(RedisKey.gpuQueueChanged, full.requestId);
    return full;
  }

  /** Takes an entry out; only one caller gets it. Null when it was not (or no longer) waiting. */
  async take(requestId: string): Promise<QueueEntry | null> {
    const raw = (await this.redis.eval(TAKE, 2, RedisKey.gpuQueue, RedisKey.gpuQueueEntries, requestId)) as string | null;
    if (raw === null) return null;
    await this.redis.publish(RedisKey.gpuQueueChanged, requestId);
    return this.decode(raw);
  }

  async get(requestId: string): Promise<QueueEntry | null> {
    const raw = await this.redis.hget(RedisKey.gpuQueueEntries, requestId);
    return raw === null ? null : this.decode(raw);
  }

  /**
   * The entries with these ids as they stand now: an entry that is gone, or whose stored bytes fail
   * their signature, is null (list() removes the latter). One round trip however many ids.
   */
  async getMany(requestIds: readonly string[]): Promise<Map<string, QueueEntry | null>> {
    const out = new Map<string, QueueEntry | null>();
    if (requestIds.length === 0) return out;
    const pipe = this.redis.pipeline();
    for (const id of requestIds) pipe.zscore(RedisKey.gpuQueue, id).hget(RedisKey.gpuQueueEntries, id);
    const res = (await pipe.exec()) ?? [];
    requestIds.forEach((id, i) => {
      const [scoreErr, score] = res[2 * i] ?? [];
      const [rawErr, raw] = res[2 * i + 1] ?? [];
      if (scoreErr || rawErr) throw scoreErr ?? rawErr;
      const entry = score === null || typeof raw !== 'string' ? null : this.decodeOnce(id, raw);
      if (!entry) this.verified.delete(id);
      out.set(id, entry);
    });
    return out;
  }

  /** Every waiting launch, in fair order. Entries that fail their signature are removed. */
  async list(): Promise<QueueEntry[]> {
    const ids = await this.redis.zrange(RedisKey.gpuQueue, 0, MAX_ENTRIES - 1);
    if (ids.length === 0) return [];
    const raws = await this.redis.hmget(RedisKey.gpuQueueEntries, ...ids);
    const out: QueueEntry[] = [];
    for (const [i, raw] of raws.entries()) {
      const e = raw === null ? null : this.decodeOnce(ids[i]!, raw);
      if (e) out.push(e);
      else await this.redis.zrem(RedisKey.gpuQueue, ids[i]!);
    }
    // Only what is still queued stays remembered.
    if (this.verified.size > ids.length) {
      const listed = new Set(ids);
      for (const id of this.verified.keys()) if (!listed.has(id)) this.verified.delete(id);
    }
    return fairOrder(out);
  }

  /**
   * Entries already verified, by their exact stored bytes (the id they are stored under too): the
   * bot reloads the whole queue on every change, and checking a thousand HMACs each time held acks
   * for seconds. An entry rewritten in Redis has other bytes and is verified afresh.
   */
  private readonly verified = new Map<string, { raw: string; entry: QueueEntry }>();

  private decodeOnce(id: string, raw: string): QueueEntry | null {
    const hit = this.verified.get(id);
    if (hit && hit.raw === raw) return hit.entry;
    const entry = this.decode(raw);
    if (entry) this.verified.set(id, { raw, entry });
    else this.verified.delete(id);
    return entry;
  }

  private decode(raw: string): QueueEntry | null {
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      return null;
    }
    const payload = verify(this.secret, data);
    if (!payload) return null;
    const parsed = QueueEntry.safeParse(payload);
    return parsed.success ? parsed.data : null;
  }
}

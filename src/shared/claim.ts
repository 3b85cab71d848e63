import type { Redis } from 'ioredis';

/**
 * One holder per key, in Redis, so the rule holds across processes (two bot replicas, a bot and a
 * worker, a worker and its re-run after a crash). `claim` is SET NX with a TTL; `release` gives
 * the key back only when the caller still holds it (compare-and-delete in one step).
 */

/** true when `holder` now holds `key` (it was free); false when someone else, or an earlier `holder`, has it. */
export async function claim(redis: Redis, key: string, holder: string, ttlS: number): Promise<boolean> {
  return (await redis.set(key, holder, 'EX', ttlS, 'NX')) === 'OK';
}

/** Who holds `key` now, or null. */
export async function holderOf(redis: Redis, key: string): Promise<string | null> {
  return redis.get(key);
}

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Gives `key` back if `holder` still holds it; a claim taken over by someone else is left alone. */
export async function release(redis: Redis, key: string, holder: string): Promise<void> {
  await redis.eval(RELEASE, 1, key, holder);
}

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';

/**
 * A Redis lock with an owner token and a lease. Used to serialise GPU allocation per host and
 * Dockerfile edits/builds per project, across processes (a restarted worker, a second worker
 * on the same host). The lease is renewed while held, so a dead holder frees it within `leaseMs`.
 */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export async function withLock<T>(redis: Redis, key: string, fn: () => Promise<T>, opts: { leaseMs?: number; waitMs?: number; busyMessage?: string } = {}): Promise<T> {
  const leaseMs = opts.leaseMs ?? 30_000;
  const waitMs = opts.waitMs ?? 120_000;
  const token = randomUUID();
  const deadline = Date.now() + waitMs;
  let delay = 25;
  for (;;) {
    const ok = await redis.set(key, token, 'PX', leaseMs, 'NX');
    if (ok === 'OK') break;
    if (Date.now() > deadline) {
      throw new Ds01Error(ErrorCode.Busy, opts.busyMessage ?? 'Another change to this is still in progress. Please try again in a minute.', {
        retryable: true,
      });
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
  const renew = setInterval(
    () => {
      redis.eval(RENEW, 1, key, token, String(leaseMs)).catch(() => undefined);
    },
    Math.max(1000, Math.floor(leaseMs / 3)),
  );
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
  }
}

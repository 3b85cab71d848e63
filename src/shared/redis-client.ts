import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import type { Logger } from './logger.js';

/**
 * Where Redis is, as both the bot and the workers read it from their environment: `REDIS_URL`, or
 * Redis Sentinel when `REDIS_SENTINELS` is set (`host:port,host:port`; the master set's name in
 * `REDIS_SENTINEL_NAME`, default `mymaster`). With Sentinel, `REDIS_URL` still gives the master's
 * password and database number (its host and port are then not used), and `REDIS_SENTINEL_PASSWORD`
 * the sentinels' own password when they have one.
 */
export const RedisEnv = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  REDIS_SENTINELS: z
    .string()
    .regex(/^[A-Za-z0-9.:[\]-]{1,253}:\d{1,5}(,[A-Za-z0-9.:[\]-]{1,253}:\d{1,5}){0,15}$/, 'REDIS_SENTINELS: a comma-separated list of host:port')
    .optional(),
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'REDIS_SENTINEL_NAME: letters, digits, `.`, `_`, `-`')
    .default('mymaster'),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
});
export type RedisEnv = z.infer<typeof RedisEnv>;

/** ioredis options for the environment's Redis (BullMQ needs `maxRetriesPerRequest: null`). */
export function redisOptions(env: RedisEnv): { url: string } | RedisOptions {
  if (!env.REDIS_SENTINELS) return { url: env.REDIS_URL };
  const url = new URL(env.REDIS_URL);
  const db = Number(url.pathname.slice(1) || 0);
  return {
    sentinels: env.REDIS_SENTINELS.split(',').map((hp) => {
      const at = hp.lastIndexOf(':');
      return { host: hp.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(hp.slice(at + 1)) };
    }),
    name: env.REDIS_SENTINEL_NAME,
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(env.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}),
  };
}

/**
 * A Redis connection that says once when Redis stops answering and once when it is back, instead
 * of ioredis's "Unhandled error event" with a stack trace on every reconnect attempt.
 */
export function redisClient(env: RedisEnv, log: Logger, name: string): Redis {
  const o = redisOptions(env);
  const client = 'url' in o ? new Redis(o.url as string, { maxRetriesPerRequest: null }) : new Redis({ ...o, maxRetriesPerRequest: null });
  return watchOutages(client, log, name);
}

export function watchOutages(client: Redis, log: Logger, name: string): Redis {
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ redis: name, err: err.message }, 'Redis is not answering; retrying in the background');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ redis: name }, 'Redis answers again');
  });
  return client;
}

import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * A Redis connection that says once when Redis stops answering and once when it is back, instead
 * of ioredis's "Unhandled error event" with a stack trace on every reconnect attempt.
 */
export function redisClient(url: string, log: Logger, name: string): Redis {
  return watchOutages(new Redis(url, { maxRetriesPerRequest: null }), log, name);
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

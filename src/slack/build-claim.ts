import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisKey } from '../contract/queues.js';
import { claim, release } from '../shared/claim.js';

/**
 * One image update per (user, project, packages) at a time: the same packages submitted again
 * while they are being added (the modal submitted twice, [Add these to the image] clicked on two
 * messages, a second bot replica) start no second build. The claim ends with the build's outcome
 * (the outbox calls `endBuild`), or after an hour if that never comes.
 */
const TTL_S = 3600;

const contentKey = (uid: number, project: string, python: string[], system: string[], noCache: boolean) =>
  RedisKey.clicked(
    `build:${uid}:${project}:${createHash('sha256')
      .update(JSON.stringify({ python: [...python].sort(), system: [...system].sort(), noCache }))
      .digest('hex')
      .slice(0, 32)}`,
  );
const requestKey = (requestId: string) => RedisKey.clicked(`build-request:${requestId}`);

export async function claimBuild(redis: Redis, requestId: string, a: { uid: number; project: string; python: string[]; system: string[]; noCache: boolean }): Promise<boolean> {
  const key = contentKey(a.uid, a.project, a.python, a.system, a.noCache);
  if (!(await claim(redis, key, requestId, TTL_S))) return false;
  await redis.set(requestKey(requestId), key, 'EX', TTL_S);
  return true;
}

/** The build of `requestId` is over (done, failed, or never queued): the same packages may be asked for again. */
export async function endBuild(redis: Redis, requestId: string): Promise<void> {
  const key = await redis.get(requestKey(requestId));
  if (!key) return;
  await release(redis, key, requestId);
  await redis.del(requestKey(requestId));
}

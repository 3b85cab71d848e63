import type { Redis } from 'ioredis';
import { RedisKey } from '../contract/queues.js';

/**
 * Slack delivers an Events API event again (with `X-Slack-Retry-Num`) when it thinks the first
 * delivery failed, and may deliver it twice at once. The first delivery to claim the event id
 * handles it; the others see the claim and do nothing.
 */
const SEEN_TTL_S = 3600; // Slack's last retry comes about five minutes after the event

const key = (eventId: string) => RedisKey.eventSeen(`slack:${eventId}`);

/** true when this delivery is the first for `eventId` (SET NX with a TTL). */
export async function claimEvent(redis: Redis, eventId: string): Promise<boolean> {
  return (await redis.set(key(eventId), '1', 'EX', SEEN_TTL_S, 'NX')) === 'OK';
}

/** Gives the claim back when handling failed, so Slack's retry can try again. */
export async function releaseEvent(redis: Redis, eventId: string): Promise<void> {
  await redis.del(key(eventId));
}

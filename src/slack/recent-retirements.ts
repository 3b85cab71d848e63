import type { Redis } from 'ioredis';
import { z } from 'zod';
import { RetireReason } from '../contract/jobs.js';
import { RedisKey } from '../contract/queues.js';

/**
 * The user's last few retirements, kept by the bot when it tells them about one, so that
 * "why did my packages disappear?" can be answered about *their* container.
 */
export const RecentRetirement = z.object({
  project: z.string(),
  container: z.string(),
  host: z.string(),
  reason: RetireReason,
  at: z.iso.datetime(),
  lostPackages: z.array(z.string()),
});
export type RecentRetirement = z.infer<typeof RecentRetirement>;

const KEEP = 10;
const TTL_S = 30 * 24 * 3600;

export async function recordRetirement(redis: Redis, slackUserId: string, r: RecentRetirement): Promise<void> {
  const key = RedisKey.recentRetirements(slackUserId);
  await redis
    .multi()
    .lpush(key, JSON.stringify(RecentRetirement.parse(r)))
    .ltrim(key, 0, KEEP - 1)
    .expire(key, TTL_S)
    .exec();
}

/** Newest first. */
export async function recentRetirements(redis: Redis, slackUserId: string): Promise<RecentRetirement[]> {
  const raw = await redis.lrange(RedisKey.recentRetirements(slackUserId), 0, KEEP - 1);
  return raw.flatMap((s) => {
    const r = RecentRetirement.safeParse(JSON.parse(s));
    return r.success ? [r.data] : [];
  });
}

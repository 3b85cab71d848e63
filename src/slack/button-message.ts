import type { BlockButtonAction } from '@slack/bolt';
import type { ReplyTarget } from '../contract/jobs.js';
import type { Redis } from 'ioredis';
import { RedisKey } from '../contract/queues.js';
import { newRequestId } from '../queue/jobs-client.js';
import { claim, release } from '../shared/claim.js';

/** The message a button was clicked on: the job it starts updates that message in place. */
export function clickedMessage(body: BlockButtonAction): ReplyTarget {
  const channel = body.container?.channel_id ?? body.channel?.id;
  const ts = body.container?.message_ts ?? body.message?.ts;
  return channel && ts ? { channel, ts } : null;
}

/**
 * A request id tied to the clicked message, so a double click queues the work once (BullMQ adds a
 * job id once); a fresh id when there is no message to tie it to.
 */
export function requestIdForClick(prefix: string, message: ReplyTarget): string {
  if (!message) return newRequestId();
  return `${prefix}-${message.channel}-${message.ts}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}

/** A button on a message acts once: long enough that a message scrolled back to weeks later still counts. */
const CLICK_TTL_S = 30 * 24 * 3600;

/**
 * Claims "`action` on this message" for `holder`: true for the first click (or when the click came
 * from no message, where there is nothing to tie it to); false for every later one, from any bot
 * replica. The first click's job then updates that message, which is all a later click needs to see.
 */
export async function claimClick(redis: Redis, action: string, message: ReplyTarget, holder: string): Promise<boolean> {
  if (!message) return true;
  return claim(redis, clickKey(action, message), holder, CLICK_TTL_S);
}

/** Gives the click back when nothing came of it (the job could not be queued), so a retry can act. */
export async function releaseClick(redis: Redis, action: string, message: ReplyTarget, holder: string): Promise<void> {
  if (message) await release(redis, clickKey(action, message), holder);
}

const clickKey = (action: string, m: { channel: string; ts: string }) => RedisKey.clicked(`${action}:${m.channel}:${m.ts}`);

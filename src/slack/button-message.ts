import type { BlockButtonAction } from '@slack/bolt';
import type { ReplyTarget } from '../contract/jobs.js';
import { newRequestId } from '../queue/jobs-client.js';

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

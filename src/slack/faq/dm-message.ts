/**
 * Which Events API `message` events are questions for the bot (pure, so the rules are testable).
 *
 * Answered: a person's plain message in a DM with the bot (`channel_type: 'im'`), top level or in
 * a thread. Every DM thread is between the user and the bot, so a thread reply is answered when
 * the thread was started by the bot (an earlier answer, a launch message) or by the user themself;
 * a thread whose parent belongs to someone else (should Slack ever send one) is left alone.
 *
 * Ignored: anything outside a DM (the bot does not listen in channels), bot messages (`bot_id`,
 * `subtype: 'bot_message'`), the bot's own user, every subtype (edits `message_changed`, deletes
 * `message_deleted`, joins, file shares…: only a freshly typed message is a question), and empty text.
 */

export interface DmMessageEvent {
  type?: string;
  subtype?: string;
  channel?: string;
  channel_type?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  parent_user_id?: string;
}

export type DmDecision =
  | { answer: true; channel: string; user: string; question: string; threadTs?: string; ts: string }
  | { answer: false; reason: 'not_dm' | 'subtype' | 'bot' | 'self' | 'no_user' | 'empty' | 'foreign_thread' };

export function decideDm(event: DmMessageEvent, botUserId: string | undefined): DmDecision {
  if (event.channel_type !== 'im' || !event.channel) return { answer: false, reason: 'not_dm' };
  if (event.bot_id || event.subtype === 'bot_message') return { answer: false, reason: 'bot' };
  if (event.subtype !== undefined) return { answer: false, reason: 'subtype' };
  if (!event.user || !event.ts) return { answer: false, reason: 'no_user' };
  if (botUserId && event.user === botUserId) return { answer: false, reason: 'self' };
  const question = (event.text ?? '').trim();
  if (!question) return { answer: false, reason: 'empty' };
  const inThread = event.thread_ts !== undefined && event.thread_ts !== event.ts;
  if (inThread && event.parent_user_id && event.parent_user_id !== event.user && event.parent_user_id !== botUserId) {
    return { answer: false, reason: 'foreign_thread' };
  }
  return {
    answer: true,
    channel: event.channel,
    user: event.user,
    question,
    ts: event.ts,
    ...(inThread ? { threadTs: event.thread_ts } : {}),
  };
}

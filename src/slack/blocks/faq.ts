import type { ContextBlock, KnownBlock } from '@slack/types';
import { FAQ_ACTION, type Answer } from '../../faq/answer.js';
import type { FeedbackRecord } from '../../faq/feedback.js';
import type { Topic } from '../../faq/knowledge-base.js';

/**
 * Slack-side finishing of FAQ answers (pure): block ids that tie the buttons to the stored question,
 * the "thanks" that replaces the feedback buttons after a click, and the admins' list of answers
 * that did not help.
 */

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

const FEEDBACK_BLOCK = 'faq_fb:';
const FEEDBACK_PROMPT_BLOCK = 'faq_fbq:';
const ALTERNATIVE_BLOCK = 'faq_alt:';

/**
 * Gives the answer's button blocks ids that carry the ask id: the feedback buttons' value is the
 * topic id (the FAQ engine's contract), and the block id says which question it answered.
 */
export function decorateAnswer(answer: Answer, askId: string): SlackMessage {
  let alternative = 0;
  const blocks = answer.blocks.map((b, i, all): KnownBlock => {
    if (b.type === 'actions' && b.elements.some((e) => e.action_id === FAQ_ACTION.helpfulYes || e.action_id === FAQ_ACTION.helpfulNo)) {
      return { ...b, block_id: `${FEEDBACK_BLOCK}${askId}` };
    }
    const next = all[i + 1];
    if (b.type === 'context' && next?.type === 'actions' && next.elements.some((e) => e.action_id === FAQ_ACTION.helpfulNo)) {
      return { ...b, block_id: `${FEEDBACK_PROMPT_BLOCK}${askId}` };
    }
    if (b.type === 'section' && b.accessory?.action_id === FAQ_ACTION.showTopic) {
      return { ...b, block_id: `${ALTERNATIVE_BLOCK}${askId}:${alternative++}` };
    }
    return b;
  });
  return { text: answer.text, blocks };
}

/** The ask id a button's block carries, if it is one of ours. */
export function askIdOf(blockId: string | undefined): string | undefined {
  return /^faq_(?:fb|fbq|alt):([0-9a-f]{6,32})(?::\d+)?$/.exec(blockId ?? '')?.[1];
}

export function feedbackThanksText(helpful: boolean, adminContact: string): string {
  return helpful
    ? 'Thanks for letting me know. Glad it helped!'
    : `Thanks for telling me. I've noted that this answer didn't help, so the DS01 admins can improve it. If you're still stuck, ask them: ${adminContact}`;
}

/**
 * The same message with its "Did this help?" prompt and buttons replaced by a short thanks, so a
 * vote is visibly taken and cannot be cast twice from the same message.
 */
export function withFeedbackThanks(blocks: KnownBlock[], helpful: boolean, adminContact: string): KnownBlock[] {
  const thanks: ContextBlock = { type: 'context', elements: [{ type: 'mrkdwn', text: feedbackThanksText(helpful, adminContact) }] };
  const out: KnownBlock[] = [];
  let replaced = false;
  for (const b of blocks) {
    const id = b.block_id ?? '';
    if (id.startsWith(FEEDBACK_PROMPT_BLOCK)) continue;
    if (
      id.startsWith(FEEDBACK_BLOCK) ||
      (b.type === 'actions' && b.elements.some((e) => 'action_id' in e && (e.action_id === FAQ_ACTION.helpfulYes || e.action_id === FAQ_ACTION.helpfulNo)))
    ) {
      if (!replaced) out.push(thanks);
      replaced = true;
      continue;
    }
    out.push(b);
  }
  if (!replaced) out.push(thanks);
  return out;
}

/** A message with no question in it ("hi", "thanks"): say what I can do instead of guessing. */
export function greetingMessage(adminContact: string): SlackMessage {
  const text =
    'Hi! I answer questions about DS01. Ask me in your own words, for example _why did my packages disappear?_ or _how long can my container run?_\n' +
    'To see the commands I understand, type `/ds01 help`.';
  const admins = `For anything I can't answer, the DS01 admins can help: ${adminContact}`;
  return {
    text: `${text}\n${admins}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: admins }] },
    ],
  };
}

const MAX_SHOWN_QUESTION = 300;

/** `/ds01 help feedback` (admins): the latest questions whose answer did not help. */
export function unhelpfulFeedbackMessage(records: FeedbackRecord[], topicOf: (id: string) => Topic | undefined): SlackMessage {
  if (records.length === 0) {
    const text = 'Nobody has marked an FAQ answer as unhelpful yet. When someone clicks *Not really*, their question shows up here.';
    return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
  }
  const head = `*FAQ answers that did not help* (latest ${records.length}, newest first)`;
  const lines = records.map((r) => {
    const q = r.question.length > MAX_SHOWN_QUESTION ? `${r.question.slice(0, MAX_SHOWN_QUESTION)}…` : r.question;
    const title = topicOf(r.topicId)?.title ?? 'a topic no longer in the FAQ';
    return `• ${r.at.slice(0, 16).replace('T', ' ')} UTC, <@${r.slackUserId}> asked “${escape(q)}” and got *${escape(title)}* (\`${r.topicId}\`)`;
  });
  const hint = 'To improve an answer, edit its topic in `src/faq/topics.yaml` (questions, keywords or the answer itself).';
  // A section holds at most 3000 characters: one per record keeps every entry whole.
  return {
    text: [head, ...lines].join('\n'),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: head } },
      ...lines.map((l): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: l } })),
      { type: 'context', elements: [{ type: 'mrkdwn', text: hint }] },
    ],
  };
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

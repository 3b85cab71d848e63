import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { SlackRouter } from '../router.js';
import type { BotDeps } from '../../deps.js';
import { claimEvent, releaseEvent } from '../../event-dedupe.js';
import { askFaq } from '../../faq/ask.js';
import { decideDm, type DmMessageEvent } from '../../faq/dm-message.js';

/**
 * A DM to the bot is a question for "Ask DS01": answered with the FAQ, personalised, in the thread
 * when it was asked in one. Which messages count as questions: src/slack/faq/dm-message.ts.
 */
export function registerDmQuestions(app: SlackRouter, deps: BotDeps): void {
  app.event('message', dmQuestion(deps));
}

export function dmQuestion(deps: BotDeps) {
  return async ({ event, body, context, client }: SlackEventMiddlewareArgs<'message'> & AllMiddlewareArgs): Promise<void> => {
    const decision = decideDm(event as DmMessageEvent, context.botUserId);
    if (!decision.answer) {
      deps.log.debug({ reason: decision.reason, subtype: (event as DmMessageEvent).subtype }, 'message event not answered');
      return;
    }
    const eventId = body.event_id || `${decision.channel}:${decision.ts}`;
    if (!(await claimEvent(deps.redis, eventId))) {
      deps.log.info({ eventId, retryNum: context.retryNum, retryReason: context.retryReason }, 'Slack delivered this event again; already answered');
      return;
    }
    try {
      const reply = await askFaq(deps, decision.user, decision.question);
      await client.chat.postMessage({
        channel: decision.channel,
        text: reply.text,
        blocks: reply.blocks,
        ...(decision.threadTs ? { thread_ts: decision.threadTs } : {}),
      });
      deps.log.info({ eventId, topic: reply.topicId, threaded: Boolean(decision.threadTs) }, 'answered a DM question');
    } catch (err) {
      // Let a later retry of this event answer it.
      await releaseEvent(deps.redis, eventId).catch(() => undefined);
      throw err;
    }
  };
}

import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import { answerForTopic, FAQ_ACTION } from '../../../faq/answer.js';
import { feedbackFromAction } from '../../../faq/feedback.js';
import { RedisKey } from '../../../contract/queues.js';
import { claim } from '../../../shared/claim.js';
import { askIdOf, decorateAnswer, feedbackThanksText, withFeedbackThanks } from '../../blocks/faq.js';
import type { BotDeps } from '../../deps.js';
import type { ActionRouter } from './router.js';
import { answerTopic, faqTopic, newAskId, recallAsk, storeFeedback, userContextFor } from '../../faq/ask.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** As long as a question is kept (recallAsk): a vote on an answer that old is still one vote. */
const VOTE_TTL_S = 30 * 24 * 3600;

interface MessageContainer {
  type?: string;
  channel_id?: string;
  message_ts?: string;
  view_id?: string;
  is_ephemeral?: boolean;
}

/** A topic button clicked twice in a row shows the answer once; asked for again later, it is shown again. */
const SAME_TOPIC_CLICK_S = 30;

/** FAQ buttons: "did this help?" and the closest-topic buttons. */
export function registerFaqActions(app: ActionRouter, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(FAQ_ACTION.helpfulYes, feedbackClicked(deps));
  app.action<BlockAction<ButtonAction>>(FAQ_ACTION.helpfulNo, feedbackClicked(deps));
  app.action<BlockAction<ButtonAction>>(FAQ_ACTION.showTopic, topicClicked(deps));
}

/**
 * [Yes, thanks] / [Not really]: store the vote with the question it answered, log the unhelpful
 * ones for the admins, and swap the buttons for a short thanks on that same message.
 */
export function feedbackClicked(deps: BotDeps) {
  return async ({ ack, action, body, client, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const slackUserId = body.user.id;
    const topicId = action.value ?? '';
    const topic = faqTopic(topicId);
    const askId = askIdOf(action.block_id);
    const container = body.container as MessageContainer;
    // One vote per person per answer: a second click (either button, any replica) is not counted
    // again, and the answer already shows the thanks.
    const answer = askId ?? container.message_ts;
    if (answer && !(await claim(deps.redis, RedisKey.clicked(`faq-vote:${answer}:${slackUserId}`), action.action_ts, VOTE_TTL_S))) {
      deps.log.info({ topicId }, '"did this help?" clicked again; the first vote stands');
      return;
    }
    const ask = await recallAsk(deps.redis, askId);
    let record;
    try {
      record = feedbackFromAction({
        actionId: action.action_id,
        value: topicId,
        // An answer older than the stored question (30 days) is still worth a vote; name its topic.
        question: ask?.question ?? topic?.title ?? 'a question no longer on record',
        slackUserId,
        at: new Date(),
      });
    } catch (err) {
      deps.log.warn({ err: (err as Error).message, topicId }, 'FAQ feedback click could not be read; not stored');
      return;
    }
    await storeFeedback(deps.redis, record);
    if (!record.helpful) {
      deps.log.info({ topicId: record.topicId, question: record.question, slackUserId }, 'FAQ answer did not help');
    }

    const adminContact = deps.config.admin_contact;
    const shown = body.message?.blocks as KnownBlock[] | undefined;
    if (shown && !container.is_ephemeral && container.channel_id && container.message_ts) {
      await client.chat.update({
        channel: container.channel_id,
        ts: container.message_ts,
        text: String(body.message?.text ?? feedbackThanksText(record.helpful, adminContact)),
        blocks: withFeedbackThanks(shown, record.helpful, adminContact),
      });
      return;
    }
    // An ephemeral answer (`/ds01 help …`): Slack does not send its blocks back, so rebuild it.
    if (topic) {
      const answer = decorateAnswer(answerForTopic(topic, await userContextFor(deps, slackUserId)), askId ?? newAskId());
      await respond({ response_type: 'ephemeral', replace_original: true, text: answer.text, blocks: withFeedbackThanks(answer.blocks, record.helpful, adminContact) });
    } else {
      await respond({ response_type: 'ephemeral', replace_original: false, text: feedbackThanksText(record.helpful, adminContact) });
    }
  };
}

/**
 * A topic button (from a "not sure" reply or the App Home's most asked questions): the full answer
 * for that topic, where the button was: the same DM (and thread), in place of an ephemeral reply,
 * or, from the App Home, in the DM with the bot.
 */
export function topicClicked(deps: BotDeps) {
  return async ({ ack, action, body, client, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const slackUserId = body.user.id;
    const container = body.container as MessageContainer;
    const where = container.message_ts ?? container.view_id ?? 'home';
    const key = RedisKey.clicked(`faq-topic:${where}:${action.value ?? ''}:${slackUserId}`);
    if (!(await claim(deps.redis, key, action.action_ts, SAME_TOPIC_CLICK_S))) {
      deps.log.info({ topicId: action.value }, 'FAQ topic button clicked again; the answer is already there');
      return;
    }
    const topic = faqTopic(action.value ?? '');
    if (!topic) {
      const text = "That topic isn't in the FAQ any more. Please ask me again in your own words.";
      if (container.type === 'message' && container.is_ephemeral) await respond({ response_type: 'ephemeral', replace_original: false, text });
      else await client.chat.postMessage({ channel: container.channel_id ?? slackUserId, text });
      return;
    }
    const reply = await answerTopic(deps, slackUserId, topic, askIdOf(action.block_id));
    if (container.type === 'message' && container.is_ephemeral) {
      await respond({ response_type: 'ephemeral', replace_original: true, text: reply.text, blocks: reply.blocks });
      return;
    }
    if (container.type === 'message' && container.channel_id) {
      const threadTs = body.message?.thread_ts as string | undefined;
      const inThread = threadTs !== undefined && threadTs !== body.message?.ts;
      await client.chat.postMessage({ channel: container.channel_id, text: reply.text, blocks: reply.blocks, ...(inThread ? { thread_ts: threadTs } : {}) });
      return;
    }
    // The App Home (a view): answer in the DM with the bot.
    await client.chat.postMessage({ channel: slackUserId, text: reply.text, blocks: reply.blocks });
  };
}

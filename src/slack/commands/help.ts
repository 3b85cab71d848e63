import { isAdmin } from '../../config/ds01-config.js';
import { helpBlocks } from '../blocks/help.js';
import { unhelpfulFeedbackMessage } from '../blocks/faq.js';
import type { CommandContext } from '../deps.js';
import { askFaq, faqTopic, latestUnhelpful } from '../faq/ask.js';

const UNHELPFUL_SHOWN = 15;

/**
 * `/ds01 help <question>`: an answer from the FAQ (the bare `/ds01 help` is answered in the ack).
 * `/ds01 help feedback` from an admin lists the latest answers people said did not help; for
 * everyone else "feedback" is just a question like any other.
 */
export async function helpCommand(ctx: CommandContext, args: { question?: string }): Promise<void> {
  const question = args.question?.trim();
  if (!question) {
    await ctx.respond({ response_type: 'ephemeral', text: 'What I can do', blocks: helpBlocks() });
    return;
  }
  if (question.toLowerCase() === 'feedback' && isAdmin(ctx.user)) {
    const message = unhelpfulFeedbackMessage(await latestUnhelpful(ctx.deps.redis, UNHELPFUL_SHOWN), faqTopic);
    await ctx.respond({ response_type: 'ephemeral', ...message });
    return;
  }
  const reply = await askFaq(ctx.deps, ctx.slackUserId, question);
  await ctx.respond({ response_type: 'ephemeral', text: reply.text, blocks: reply.blocks });
}

import { helpBlocks } from '../blocks/help.js';
import type { CommandContext } from '../deps.js';

/** `/ds01 help <question>`: an answer from the FAQ (the bare `/ds01 help` is answered in the ack). */
export async function helpCommand(ctx: CommandContext, _args: { question?: string }): Promise<void> {
  await ctx.respond({ response_type: 'ephemeral', text: 'What I can do', blocks: helpBlocks() });
}

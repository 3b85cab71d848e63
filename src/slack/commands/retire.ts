import type { CommandContext } from '../deps.js';

/** `/ds01 retire <project>`. */
export async function retireCommand(ctx: CommandContext, args: { project: string; user?: string; force: boolean }): Promise<void> {
  await ctx.respond({ response_type: 'ephemeral', text: `Retiring \`${args.project}\` is not available yet.` });
}

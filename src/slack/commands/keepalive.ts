import type { CommandContext } from '../deps.js';

/** `/ds01 keepalive <project> [hours]`. */
export async function keepaliveCommand(ctx: CommandContext, args: { project: string; hours?: number }): Promise<void> {
  await ctx.respond({ response_type: 'ephemeral', text: `Keep-alive for \`${args.project}\` is not available yet.` });
}

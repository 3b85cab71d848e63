import type { CommandContext } from '../deps.js';

/** `/ds01 image-update <project>`: open the package modal at once (the trigger lives 3 s). */
export async function imageUpdateCommand(ctx: CommandContext, args: { project: string }): Promise<void> {
  await ctx.respond({ response_type: 'ephemeral', text: `Adding packages to \`${args.project}\` is not available yet.` });
}

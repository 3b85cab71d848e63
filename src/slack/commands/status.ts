import { effectiveLimits } from '../../limits/resource-limits.js';
import { gpusMessage, limitsMessage, statusMessage } from '../blocks/status.js';
import type { CommandContext } from '../deps.js';

export async function statusCommand(ctx: CommandContext): Promise<void> {
  await ctx.respond({ response_type: 'ephemeral', ...statusMessage(ctx.user.user, await ctx.deps.hosts.online()) });
}

export async function gpusCommand(ctx: CommandContext): Promise<void> {
  await ctx.respond({ response_type: 'ephemeral', ...gpusMessage(await ctx.deps.hosts.online()) });
}

export async function limitsCommand(ctx: CommandContext): Promise<void> {
  const { user, deps } = ctx;
  const limits = effectiveLimits(deps.limits, {
    user: user.user,
    ...(user.group ? { group: user.group } : {}),
    ...(deps.userOverrides ? { overrides: deps.userOverrides } : {}),
  });
  await ctx.respond({ response_type: 'ephemeral', ...limitsMessage(user.user, limits) });
}

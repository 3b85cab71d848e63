import { isAdmin } from '../../config/ds01-config.js';
import { RedisKey } from '../../contract/queues.js';
import { effectiveLimits } from '../../limits/resource-limits.js';
import { gpusMessage, limitsMessage, statusMessage } from '../blocks/status.js';
import type { CommandContext } from '../deps.js';

export async function statusCommand(ctx: CommandContext): Promise<void> {
  await ctx.respond({ response_type: 'ephemeral', ...statusMessage(ctx.user.user, await ctx.deps.hosts.online()) });
}

export async function gpusCommand(ctx: CommandContext): Promise<void> {
  let share;
  if (isAdmin(ctx.user)) {
    const raw = await ctx.deps.redis.hmget(RedisKey.packageStats, 'added', 'lost');
    share = { added: Number(raw[0] ?? 0) || 0, lost: Number(raw[1] ?? 0) || 0 };
  }
  await ctx.respond({ response_type: 'ephemeral', ...gpusMessage(await ctx.deps.hosts.online(), share) });
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

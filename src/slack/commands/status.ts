import type { UserEntry } from '../../config/ds01-config.js';
import { isAdmin } from '../../config/ds01-config.js';
import { RedisKey } from '../../contract/queues.js';
import { effectiveLimits } from '../../limits/resource-limits.js';
import { gpusMessage, limitsMessage, statusMessage } from '../blocks/status.js';
import { queueMessage } from '../blocks/queue.js';
import type { BotDeps, CommandContext } from '../deps.js';
import type { KnownBlock } from '@slack/types';
import type { HostSnapshot } from '../../contract/hosts.js';

type Message = { text: string; blocks: KnownBlock[] };
export type InstantSub = 'status' | 'gpus' | 'limits' | 'queue';

/**
 * `/ds01 status`, `gpus`, `limits` and `queue`, answered from the bot's in-memory view of the hosts and
 * the GPU queue (kept current by Redis pub/sub): no Redis round trip, so the answer goes in the ack.
 * Null before the view has loaded, and for an admin's `gpus` (it adds counters read from Redis): the
 * caller then answers after the ack.
 */
export function instantAnswer(deps: BotDeps, user: UserEntry, sub: InstantSub): Message | null {
  if (sub === 'limits') return limitsMessage(user.user, limitsOf(deps, user), largestHost(deps.hosts.view()?.online));
  const view = deps.hosts.view();
  if (!view) return null;
  switch (sub) {
    case 'status':
      return statusMessage(user.user, view.online, view.queue);
    case 'gpus':
      return isAdmin(user) ? null : gpusMessage(view.online, undefined, view.down);
    case 'queue':
      return queueMessage(view.queue, user.user, isAdmin(user));
  }
}

/** The most one container can get on any online host (what the limits are clamped to), when known. */
function largestHost(hosts: HostSnapshot[] | undefined): { cpus: number; memoryBytes: number } | null {
  const caps = (hosts ?? []).flatMap((h) => (h.capacity ? [h.capacity] : []));
  if (caps.length === 0) return null;
  return { cpus: Math.max(...caps.map((c) => c.cpus)), memoryBytes: Math.max(...caps.map((c) => c.memoryBytes)) };
}

function limitsOf(deps: BotDeps, user: UserEntry) {
  return effectiveLimits(deps.limits, {
    user: user.user,
    ...(user.group ? { group: user.group } : {}),
    ...(deps.userOverrides ? { overrides: deps.userOverrides } : {}),
  });
}

export async function statusCommand(ctx: CommandContext): Promise<void> {
  await ctx.respond({
    response_type: 'ephemeral',
    ...(instantAnswer(ctx.deps, ctx.user, 'status') ?? statusMessage(ctx.user.user, await ctx.deps.hosts.online(), await ctx.deps.gpuQueue.list())),
  });
}

export async function gpusCommand(ctx: CommandContext): Promise<void> {
  let share;
  if (isAdmin(ctx.user)) {
    const raw = await ctx.deps.redis.hmget(RedisKey.packageStats, 'added', 'lost');
    share = { added: Number(raw[0] ?? 0) || 0, lost: Number(raw[1] ?? 0) || 0 };
  }
  const view = ctx.deps.hosts.view();
  await ctx.respond({ response_type: 'ephemeral', ...gpusMessage(await ctx.deps.hosts.online(), share, view?.down ?? []) });
}

export async function limitsCommand(ctx: CommandContext): Promise<void> {
  await ctx.respond({ response_type: 'ephemeral', ...limitsMessage(ctx.user.user, limitsOf(ctx.deps, ctx.user), largestHost(ctx.deps.hosts.view()?.online)) });
}

export async function queueCommand(ctx: CommandContext): Promise<void> {
  await ctx.respond({
    response_type: 'ephemeral',
    ...(instantAnswer(ctx.deps, ctx.user, 'queue') ?? queueMessage(await ctx.deps.gpuQueue.list(), ctx.user.user, isAdmin(ctx.user))),
  });
}

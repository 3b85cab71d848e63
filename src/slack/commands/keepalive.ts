import { newRequestId } from '../../queue/jobs-client.js';
import type { ReplyTarget } from '../../contract/jobs.js';
import type { BotDeps } from '../deps.js';
import type { CommandContext } from '../deps.js';
import { personOf, type UserEntry } from '../../config/ds01-config.js';
import { KEEPALIVE_BUTTON_HOURS } from '../render/lifecycle.js';

/**
 * Queues a keep-alive for the user's own container; the worker caps it at DS01's
 * keepalive_max_duration_h and the confirmation (or the reason it failed) arrives by DM.
 * Returns an answer for the user when nothing was queued.
 */
export async function queueKeepalive(deps: BotDeps, user: UserEntry, project: string, hours: number, reply: ReplyTarget, requestId = newRequestId()): Promise<string | null> {
  const hosts = await deps.hosts.online();
  const host = hosts.find((h) => h.containers.some((c) => c.user === user.user && c.project === project && c.state === 'running'));
  if (!host) return `You have no running container for \`${project}\`, so there is nothing to keep alive. \`/ds01 status\` lists what you have.`;
  await deps.jobs.add(
    host.hostId,
    { kind: 'keepalive', requestId, owner: personOf(user), requestedBy: user.user, project, reply, hours },
    `keepalive-${user.uid}-${project}-${requestId}`,
  );
  return null;
}

/** `/ds01 keepalive <project> [hours]`. */
export async function keepaliveCommand(ctx: CommandContext, args: { project: string; hours?: number }): Promise<void> {
  const hours = args.hours ?? KEEPALIVE_BUTTON_HOURS;
  const refused = await queueKeepalive(ctx.deps, ctx.user, args.project, hours, null);
  await ctx.respond({
    response_type: 'ephemeral',
    text: refused ?? `Keeping \`${args.project}\` alive for ${hours} h (at most what DS01 allows); I'll confirm in our DM.`,
  });
}

import { newRequestId } from '../../queue/jobs-client.js';
import type { ReplyTarget } from '../../contract/jobs.js';
import type { BotDeps } from '../deps.js';
import type { CommandContext } from '../deps.js';
import { personOf, type UserEntry } from '../../config/ds01-config.js';
import { KEEPALIVE_BUTTON_HOURS } from '../render/lifecycle.js';
import { RedisKey } from '../../contract/queues.js';
import { claim } from '../../shared/claim.js';

/**
 * The same keep-alive asked for again this soon (a double click, the command sent twice) is the one
 * already on its way: it would set the same deadline, give or take the seconds between the two.
 */
const SAME_KEEPALIVE_S = 60;

/**
 * Queues a keep-alive for the user's own container; the worker caps it at DS01's
 * keepalive_max_duration_h and the confirmation (or the reason it failed) arrives by DM.
 * Returns an answer for the user when nothing was queued.
 */
export async function queueKeepalive(deps: BotDeps, user: UserEntry, project: string, hours: number, reply: ReplyTarget, requestId = newRequestId()): Promise<string | null> {
  const hosts = await deps.hosts.online();
  const host = hosts.find((h) => h.containers.some((c) => c.user === user.user && c.project === project && c.state === 'running'));
  const container = host?.containers.find((c) => c.user === user.user && c.project === project && c.state === 'running');
  if (!host || !container) return `You have no running container for \`${project}\`, so there is nothing to keep alive. \`/ds01 status\` lists what you have.`;
  // Keyed by the container (its engine id) and the hours: whichever message, command or replica asked.
  const key = RedisKey.clicked(`keepalive:${host.hostId}:${container.id ?? container.name}:${hours}`);
  if (!(await claim(deps.redis, key, requestId, SAME_KEEPALIVE_S))) {
    return `\`${project}\` is already being kept alive for ${hours} h (asked a moment ago), so I queued nothing new; the confirmation arrives in our DM.`;
  }
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

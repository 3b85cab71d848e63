import { findUserByName, isAdmin, personOf } from '../../config/ds01-config.js';
import { newRequestId } from '../../queue/jobs-client.js';
import type { CommandContext } from '../deps.js';
import { recordAudit } from '../../audit/audit-log.js';
import { ErrorCode } from '../../shared/errors.js';
import { alreadyText, claimRetirement } from '../retire-claim.js';

/**
 * `/ds01 retire <project> [--user <name>]`: only the owner, or an admin with --user, may retire a
 * container. The worker compares pip packages before removing it and the owner gets the
 * explanation in a DM.
 */
export async function retireCommand(ctx: CommandContext, args: { project: string; user?: string; force: boolean }): Promise<void> {
  const { deps } = ctx;
  const forOther = args.user !== undefined && args.user !== ctx.user.user;
  if (forOther && !isAdmin(ctx.user)) {
    await recordAudit(deps.redis, deps.log, {
      who: ctx.user.user,
      owner: args.user ?? null,
      what: 'retire:admin',
      target: args.project,
      host: null,
      result: 'refused',
      code: ErrorCode.NotOwner,
    });
    await ctx.respond({
      response_type: 'ephemeral',
      text: `\`${args.project}\` of ${args.user} isn't yours, so I left it alone: only its owner or a DS01 admin can retire it. Nothing was changed.`,
    });
    return;
  }
  const owner = forOther ? findUserByName(deps.config, args.user!) : ctx.user;
  if (!owner) {
    await ctx.respond({ response_type: 'ephemeral', text: `There is no DS01 user called \`${args.user}\` in the bot's config. Nothing was changed.` });
    return;
  }
  const requestId = newRequestId();
  const target = await claimRetirement(deps, owner, args.project, requestId);
  if (target.kind === 'retiring' || target.kind === 'retired') {
    await ctx.respond({ response_type: 'ephemeral', text: alreadyText(target, args.project, forOther ? `${owner.user}'s ` : '') });
    return;
  }
  if (target.kind === 'none') {
    const hosts = await deps.hosts.online();
    const others = hosts.flatMap((h) => h.containers.filter((c) => c.project === args.project && c.user !== owner.user).map((c) => ({ ...c, host: h.hostId })));
    const text =
      others.length > 0 && !forOther
        ? `You have no container for \`${args.project}\`. The \`${args.project}\` container on ${others[0]!.host} belongs to ${others[0]!.user}, so it isn't yours to retire. Nothing was changed.`
        : `${forOther ? `${owner.user} has` : 'You have'} no container for \`${args.project}\`, so there is nothing to retire. \`/ds01 status\` lists what is running.`;
    await ctx.respond({ response_type: 'ephemeral', text });
    return;
  }
  try {
    const host = { hostId: target.hostId };
    await ctx.respond({
      response_type: 'ephemeral',
      text: forOther
        ? `Retiring ${owner.user}'s \`${args.project}\` on ${host.hostId}. They'll get a DM explaining what was kept and what was lost.`
        : `Retiring \`${args.project}\` on ${host.hostId}: first checking which packages exist only in the container. The details follow in our DM.`,
    });
    let reply: { channel: string; ts: string } | null = null;
    if (!forOther) {
      try {
        const msg = await ctx.client.chat.postMessage({ channel: ctx.slackUserId, text: `:hourglass_flowing_sand: Retiring \`${args.project}\` on ${host.hostId}…` });
        if (msg.channel && msg.ts) reply = { channel: msg.channel, ts: msg.ts };
      } catch (err) {
        deps.log.warn({ err: (err as Error).message }, 'could not open the retire message');
      }
    }
    await deps.jobs.add(
      host.hostId,
      {
        kind: 'retire',
        requestId,
        owner: personOf(owner),
        requestedBy: ctx.user.user,
        project: args.project,
        reply,
        reason: forOther ? 'admin' : 'user',
        relaunch: false,
        // The owner is asked first when packages would be lost; an admin (or --force) decides at once.
        confirmFirst: !forOther && !args.force,
        ...(target.containerId ? { containerId: target.containerId } : {}),
      },
      `retire-${owner.uid}-${args.project}-${requestId}`,
    );
  } catch (err) {
    await target.release().catch(() => undefined);
    throw err;
  }
}

import { isAdmin } from '../../config/ds01-config.js';
import { readAudit, recordAudit } from '../../audit/audit-log.js';
import { ErrorCode } from '../../shared/errors.js';
import { auditMessage } from '../blocks/audit.js';
import type { CommandContext } from '../deps.js';

/** `/ds01 audit [user]`: the newest actions on containers and images, for admins only. */
export async function auditCommand(ctx: CommandContext, args: { user?: string }): Promise<void> {
  const { deps, user } = ctx;
  if (!isAdmin(user)) {
    await recordAudit(deps.redis, deps.log, { who: user.user, owner: null, what: 'audit', target: null, host: null, result: 'refused', code: ErrorCode.NotOwner });
    await ctx.respond({ response_type: 'ephemeral', text: 'The audit trail is for DS01 admins, so I did not show it. `/ds01 status` shows your own containers.' });
    return;
  }
  const entries = await readAudit(deps.redis, { ...(args.user ? { user: args.user } : {}), count: 20 });
  await ctx.respond({ response_type: 'ephemeral', ...auditMessage(entries, args.user) });
}

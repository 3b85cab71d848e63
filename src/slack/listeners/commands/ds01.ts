import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { findUserBySlackId } from '../../../config/ds01-config.js';
import { userMessageOf, isDs01Error } from '../../../shared/errors.js';
import { helpBlocks } from '../../blocks/help.js';
import { launchCommand } from '../../commands/launch.js';
import { parseCommand, type Command } from '../../commands/parse.js';
import { gpusCommand, instantAnswer, limitsCommand, queueCommand, statusCommand } from '../../commands/status.js';
import { imageUpdateCommand } from '../../commands/image-update.js';
import { keepaliveCommand } from '../../commands/keepalive.js';
import { retireCommand } from '../../commands/retire.js';
import { helpCommand } from '../../commands/help.js';
import { auditCommand } from '../../commands/audit.js';
import { recordAudit } from '../../../audit/audit-log.js';
import { ErrorCode } from '../../../shared/errors.js';
import type { BotDeps, CommandContext } from '../../deps.js';
import { notRegisteredText } from '../../not-registered.js';
import { firstDelivery } from '../../delivery-dedupe.js';

/**
 * `/ds01 …`: parse and check the user (pure, in memory), ack at once, then do the work. The ack
 * never waits on Redis, Docker or Slack: anything slow happens after it and answers via respond().
 */
export function ds01Command(deps: BotDeps) {
  return async ({ command, body, ack, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const parsed = parseCommand(command.text ?? '');
    if (!parsed.ok) {
      await ack({ response_type: 'ephemeral', text: parsed.message, ...(parsed.showHelp ? { blocks: helpBlocks(parsed.message) } : {}) });
      return;
    }
    const user = findUserBySlackId(deps.config, command.user_id);
    if (!user) {
      if (parsed.command.sub !== 'help') {
        void recordAudit(deps.redis, deps.log, {
          who: command.user_id,
          owner: null,
          what: parsed.command.sub,
          target: 'project' in parsed.command ? parsed.command.project : null,
          host: null,
          result: 'refused',
          code: ErrorCode.NotRegistered,
        });
      }
      await ack({
        response_type: 'ephemeral',
        text: notRegisteredText(deps.config, command.user_id),
      });
      return;
    }
    const cmd = parsed.command;
    if (cmd.sub === 'help' && !cmd.question) {
      await ack({ response_type: 'ephemeral', text: 'What I can do', blocks: helpBlocks() });
      return;
    }
    if (cmd.sub === 'status' || cmd.sub === 'gpus' || cmd.sub === 'limits' || cmd.sub === 'queue') {
      // Answered from memory, in the ack itself (no Redis, no response_url post).
      const answer = instantAnswer(deps, user, cmd.sub);
      if (answer) {
        await ack({ response_type: 'ephemeral', ...answer });
        return;
      }
    }
    await ack();
    // The rest of a burst's acks go out before this command's work starts (ack-first.ts).
    await deps.ackFirst?.turn();
    // The identical command delivered again (a retry, a second replica) does its work once.
    if (!(await firstDelivery(deps, body))) {
      deps.log.info({ sub: cmd.sub }, 'the identical command arrived again; acknowledged and ignored');
      return;
    }
    const ctx: CommandContext = { deps, user, slackUserId: command.user_id, channelId: command.channel_id, triggerId: command.trigger_id, respond, client };
    try {
      await run(ctx, cmd);
    } catch (err) {
      if (!isDs01Error(err)) deps.log.error({ err, sub: cmd.sub }, 'command failed');
      await respond({ response_type: 'ephemeral', text: userMessageOf(err) }).catch(() => undefined);
    }
  };
}

async function run(ctx: CommandContext, cmd: Command): Promise<void> {
  switch (cmd.sub) {
    case 'launch':
      return launchCommand(ctx, cmd);
    case 'status':
      return statusCommand(ctx);
    case 'gpus':
      return gpusCommand(ctx);
    case 'limits':
      return limitsCommand(ctx);
    case 'queue':
      return queueCommand(ctx);
    case 'image-update':
      return imageUpdateCommand(ctx, cmd);
    case 'retire':
      return retireCommand(ctx, cmd);
    case 'keepalive':
      return keepaliveCommand(ctx, cmd);
    case 'help':
      return helpCommand(ctx, cmd);
    case 'audit':
      return auditCommand(ctx, cmd);
  }
}

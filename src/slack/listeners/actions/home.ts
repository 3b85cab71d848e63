import type { AllMiddlewareArgs, BlockAction, ButtonAction, RespondArguments, RespondFn, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { findUserBySlackId } from '../../../config/ds01-config.js';
import { ProjectName } from '../../../ds01/naming.js';
import { isDs01Error, userMessageOf } from '../../../shared/errors.js';
import { HOME_ACTION } from '../../blocks/home.js';
import { launchCommand } from '../../commands/launch.js';
import { retireCommand } from '../../commands/retire.js';
import type { BotDeps, CommandContext } from '../../deps.js';
import type { ActionRouter } from './router.js';
import { notRegisteredText } from '../../not-registered.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** App Home quick actions (launch, retire); [Add packages] is the image-update modal's own action. */
export function registerHomeActions(app: ActionRouter, deps: BotDeps): void {
  app.action<BlockAction<ButtonAction>>(HOME_ACTION.launch, homeQuickAction(deps, 'launch'));
  app.action<BlockAction<ButtonAction>>(HOME_ACTION.retire, homeQuickAction(deps, 'retire'));
}

/**
 * [Launch] / [Retire] on the Home tab run the same code as `/ds01 launch <project>` and
 * `/ds01 retire <project>`. A Home tab has no response_url, so what the command would have said
 * ephemerally arrives as a DM from the bot instead.
 */
function homeQuickAction(deps: BotDeps, what: 'launch' | 'retire') {
  return async ({ ack, action, body, client }: ButtonArgs): Promise<void> => {
    await ack();
    const slackUserId = body.user.id;
    const respond = dmResponder(client, slackUserId);
    const user = findUserBySlackId(deps.config, slackUserId);
    if (!user) {
      await respond(notRegisteredText(deps.config, slackUserId, `${what} anything`));
      return;
    }
    const project = ProjectName.safeParse(action.value ?? '');
    if (!project.success) {
      await respond(`I couldn't read which project that button was for. Please use \`/ds01 ${what} <project>\` instead.`);
      return;
    }
    const ctx: CommandContext = { deps, user, slackUserId, channelId: slackUserId, triggerId: body.trigger_id, respond, client };
    try {
      if (what === 'launch') await launchCommand(ctx, { project: project.data, gpus: 1, rebuild: false });
      else await retireCommand(ctx, { project: project.data, force: false });
    } catch (err) {
      if (!isDs01Error(err)) deps.log.error({ err, action: action.action_id }, 'home quick action failed');
      await respond(userMessageOf(err)).catch(() => undefined);
    }
  };
}

/** A RespondFn that posts into the user's DM with the bot. */
export function dmResponder(client: WebClient, slackUserId: string): RespondFn {
  return async (message: string | RespondArguments) => {
    const m: { text?: string; blocks?: KnownBlock[] } = typeof message === 'string' ? { text: message } : (message as { text?: string; blocks?: KnownBlock[] });
    await client.chat.postMessage({ channel: slackUserId, text: m.text ?? '', ...(m.blocks ? { blocks: m.blocks } : {}) });
    // Bolt 5's RespondFn resolves with the fetch Response of the response_url post; nobody reads it.
    return new Response(null, { status: 200 });
  };
}

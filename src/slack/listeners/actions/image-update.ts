import type { BlockAction, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { findUserBySlackId, personOf } from '../../../config/ds01-config.js';
import type { RetireJob } from '../../../contract/jobs.js';
import { containerName } from '../../../ds01/naming.js';
import { claimClick, clickedMessage, releaseClick, requestIdForClick } from '../../button-message.js';
import { alreadyText, claimRetirement } from '../../retire-claim.js';
import { isDs01Error, userMessageOf } from '../../../shared/errors.js';
import { AddToImageValue, IMAGE_ACTIONS, parseButtonValue, recreateRequestedMessage, RecreateValue } from '../../blocks/build.js';
import { notRegisteredForImages, openPackageModal } from '../../commands/image-update.js';
import type { BotDeps } from '../../deps.js';
import type { ActionRouter } from './router.js';

/** A private note to whoever clicked: in place when the click came from a message, else by DM. */
async function tell(body: BlockAction, respond: RespondFn, client: WebClient, text: string): Promise<void> {
  if (body.response_url) await respond({ response_type: 'ephemeral', replace_original: false, text });
  else await client.chat.postMessage({ channel: body.user.id, text });
}

function buttonValue(body: BlockAction, actionId: string): string | undefined {
  const action = body.actions.find((a) => a.action_id === actionId);
  return action && action.type === 'button' ? action.value : undefined;
}

/** [Add to image] (image_update_open) and [Recreate container] (recreate_container). */
export function registerImageActions(app: ActionRouter, deps: BotDeps): void {
  app.action<BlockAction>(IMAGE_ACTIONS.open, async ({ ack, body, client, respond }) => {
    await ack();
    const slackUserId = body.user.id;
    try {
      const user = findUserBySlackId(deps.config, slackUserId);
      if (!user) return await tell(body, respond, client, notRegisteredForImages(deps.config, slackUserId));
      const value = parseButtonValue(AddToImageValue, buttonValue(body, IMAGE_ACTIONS.open));
      if (!value) {
        return await tell(
          body,
          respond,
          client,
          "That button did not say which project to add packages to, so I didn't open the form. Run `/ds01 image-update <project>` instead.",
        );
      }
      await openPackageModal({ deps, client, triggerId: body.trigger_id, slackUserId, user, project: value.project, prefill: { python: value.python, system: value.system } });
    } catch (err) {
      if (!isDs01Error(err)) deps.log.error({ err }, 'opening the package modal from a button failed');
      await tell(body, respond, client, userMessageOf(err)).catch(() => undefined);
    }
  });

  app.action<BlockAction>(IMAGE_ACTIONS.recreate, async ({ ack, body, client, respond }) => {
    await ack();
    const slackUserId = body.user.id;
    try {
      const user = findUserBySlackId(deps.config, slackUserId);
      if (!user) return await tell(body, respond, client, notRegisteredForImages(deps.config, slackUserId));
      const value = parseButtonValue(RecreateValue, buttonValue(body, IMAGE_ACTIONS.recreate));
      if (!value) {
        return await tell(
          body,
          respond,
          client,
          'That button did not say which container to recreate, so I did nothing. Use `/ds01 retire <project>` and `/ds01 launch <project>` instead.',
        );
      }
      // Only the owner's own container: the name is derived from the clicking user's uid.
      if (value.container !== containerName(value.project, user.uid)) {
        return await tell(body, respond, client, `\`${value.container}\` is not one of your containers, so I did nothing.`);
      }
      const clicked = clickedMessage(body as BlockButtonAction);
      // One recreate per message: a later click (a double click, a second replica, the message
      // scrolled back to) does nothing; the first click's note on that message is the answer.
      const requestId = requestIdForClick('rc', clicked);
      if (!(await claimClick(deps.redis, IMAGE_ACTIONS.recreate, clicked, requestId))) {
        deps.log.info({ container: value.container }, '[Recreate container] clicked again; the first click stands');
        return;
      }
      // And one retirement of that container, whoever else asked for one meanwhile.
      const target = await claimRetirement(deps, user, value.project, requestId, value.host).catch(async (err: unknown) => {
        await releaseClick(deps.redis, IMAGE_ACTIONS.recreate, clicked, requestId);
        throw err;
      });
      if (target.kind !== 'claimed') {
        await releaseClick(deps.redis, IMAGE_ACTIONS.recreate, clicked, requestId);
        const text =
          target.kind === 'none'
            ? `\`${value.container}\` is not there any more, so there is nothing to recreate: \`/ds01 launch ${value.project}\` starts a new container from the new image.`
            : alreadyText(target, value.project);
        return await tell(body, respond, client, text);
      }
      const job: RetireJob = {
        kind: 'retire',
        requestId,
        owner: personOf(user),
        requestedBy: user.user,
        project: value.project,
        reply: clicked,
        reason: 'recreate',
        relaunch: true,
        // The build message already said what a recreate keeps and loses.
        confirmFirst: false,
        ...(target.containerId ? { containerId: target.containerId } : {}),
      };
      await deps.jobs.add(value.host, job, `retire-${user.uid}-${value.project}-${requestId}`).catch(async (err: unknown) => {
        await target.release();
        await releaseClick(deps.redis, IMAGE_ACTIONS.recreate, clicked, requestId);
        throw err;
      });
      const message = recreateRequestedMessage(body.message?.blocks, value);
      if (clicked) await client.chat.update({ channel: clicked.channel, ts: clicked.ts, ...message });
      else await tell(body, respond, client, message.text);
    } catch (err) {
      if (!isDs01Error(err)) deps.log.error({ err }, 'queueing a recreate failed');
      await tell(body, respond, client, `I could not start recreating the container: ${userMessageOf(err)}`).catch(() => undefined);
    }
  });
}

import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { findUserBySlackId, isAdmin } from '../../../config/ds01-config.js';
import { RequestId } from '../../../contract/jobs.js';
import { RedisKey } from '../../../contract/queues.js';
import { userMessageOf } from '../../../shared/errors.js';
import { leftQueueMessage } from '../../blocks/queue.js';
import { QUEUE_ACTION } from '../../blocks/queue.js';
import type { BotDeps } from '../../deps.js';
import type { ActionRouter } from './router.js';
import { notRegisteredText } from '../../not-registered.js';

/**
 * [Leave queue] (the owner, on the waiting launch's message or in `/ds01 queue`) and [Remove] (an
 * admin, in `/ds01 queue`). The button's value only names the entry; who may take it out is
 * decided here from the config: its owner (by uid) or an admin.
 */
export function registerGpuQueueActions(app: ActionRouter, deps: BotDeps): void {
  app.action<BlockButtonAction>(QUEUE_ACTION.leave, leaveOrRemove(deps));
  app.action<BlockButtonAction>(QUEUE_ACTION.remove, leaveOrRemove(deps));
}

function leaveOrRemove(deps: BotDeps) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const say = (text: string) => client.chat.postMessage({ channel: body.user.id, text });
    try {
      const actor = findUserBySlackId(deps.config, body.user.id);
      if (!actor) return void (await say(notRegisteredText(deps.config, body.user.id, 'change the GPU queue')));
      const id = RequestId.safeParse(body.actions[0]?.value ?? '');
      if (!id.success) return void (await say('That button is out of date, so I did nothing. `/ds01 queue` shows the queue as it is now.'));
      const entry = await deps.gpuQueue.get(id.data);
      if (!entry) return void (await say('That launch is no longer waiting (it has started, or it already left the queue). `/ds01 status` shows where things stand.'));
      const own = entry.owner.uid === actor.uid && entry.owner.user === actor.user;
      if (!own && !isAdmin(actor)) return void (await say("That launch is someone else's, so I left it where it is. Only its owner or a DS01 admin can take it out of the queue."));
      const taken = await deps.gpuQueue.take(entry.requestId);
      if (!taken) return void (await say('That launch just left the queue (it started, or someone took it out first).'));
      const key = RedisKey.launchInflight(taken.owner.uid, taken.project);
      if ((await deps.redis.get(key)) === taken.requestId) await deps.redis.del(key);
      const msg = leftQueueMessage(taken.project, own ? null : actor.user);
      if (taken.reply) await client.chat.update({ channel: taken.reply.channel, ts: taken.reply.ts, ...msg }).catch(() => undefined);
      if (own) {
        if (!taken.reply) await say(msg.text);
      } else {
        await client.chat.postMessage({ channel: taken.owner.slackUserId, ...msg });
        await say(`Took ${taken.owner.user}'s waiting launch of \`${taken.project}\` out of the GPU queue; they have been told.`);
      }
      deps.log.info({ requestId: taken.requestId, owner: taken.owner.user, by: actor.user }, 'left the GPU queue');
    } catch (err) {
      await say(userMessageOf(err)).catch(() => undefined);
    }
  };
}

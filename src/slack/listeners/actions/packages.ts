import type { BlockAction, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { findUserBySlackId } from '../../../config/ds01-config.js';
import { RedisKey } from '../../../contract/queues.js';
import { containerName } from '../../../ds01/naming.js';
import { isDs01Error, userMessageOf } from '../../../shared/errors.js';
import { clickedMessage } from '../../button-message.js';
import { parseButtonValue } from '../../blocks/build.js';
import { notNeededMessage, NotNeededValue, PACKAGE_ACTIONS } from '../../blocks/packages.js';
import type { BotDeps } from '../../deps.js';
import type { ActionRouter } from './router.js';
import { notRegisteredText } from '../../not-registered.js';

/** A private note to whoever clicked: in place when the click came from a message, else by DM. */
async function tell(body: BlockAction, respond: RespondFn, client: WebClient, text: string): Promise<void> {
  if (body.response_url) await respond({ response_type: 'ephemeral', replace_original: false, text });
  else await client.chat.postMessage({ channel: body.user.id, text });
}

/**
 * [Not needed] on a package notice: those packages are not offered again for that container. The
 * button's value is a claim: the container is the clicking user's own (its name comes from their
 * uid) and must still be the very container the notice was about (its engine id).
 */
export function registerPackageActions(app: ActionRouter, deps: BotDeps): void {
  app.action<BlockAction>(PACKAGE_ACTIONS.notNeeded, async ({ ack, body, client, respond }) => {
    await ack();
    try {
      const user = findUserBySlackId(deps.config, body.user.id);
      if (!user) return await tell(body, respond, client, notRegisteredText(deps.config, body.user.id, 'change package notices'));
      const action = body.actions.find((a) => a.action_id === PACKAGE_ACTIONS.notNeeded);
      const value = parseButtonValue(NotNeededValue, action && action.type === 'button' ? action.value : undefined);
      if (!value) return await tell(body, respond, client, 'That button is out of date, so I did nothing. The packages stay listed on the Home tab.');
      const key = RedisKey.packageWatch(value.host, containerName(value.project, user.uid));
      if ((await deps.redis.hget(key, 'cid')) !== value.cid) {
        return await tell(body, respond, client, `That notice is about a \`${value.project}\` container of yours that is gone or was replaced, so there was nothing to silence.`);
      }
      await deps.redis
        .multi()
        .hset(key, Object.fromEntries(value.names.map((n) => [`s:${n}`, '1'])))
        .expire(key, 30 * 24 * 3600)
        .exec();
      const clicked = clickedMessage(body as BlockButtonAction);
      const message = notNeededMessage(value.project, value.names);
      if (clicked) await client.chat.update({ channel: clicked.channel, ts: clicked.ts, ...message });
      else await tell(body, respond, client, message.text);
    } catch (err) {
      if (!isDs01Error(err)) deps.log.error({ err }, 'silencing a package notice failed');
      await tell(body, respond, client, `I could not silence those packages: ${userMessageOf(err)}`).catch(() => undefined);
    }
  });
}

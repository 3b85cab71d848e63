import type { WebClient } from '@slack/web-api';
import type { EventOf } from '../../contract/jobs.js';
import type { BotDeps } from '../deps.js';
import { keepaliveSetMessage, lifecycleFailedMessage, retireConfirmMessage, retiredChannelLine, retiredMessage, warningMessage } from '../blocks/lifecycle.js';
import { once, upsert } from '../outbox.js';
import { recordRetirement } from '../recent-retirements.js';

/** Keep-alive offered from a warning: a few hours, never past DS01's maximum. */
export const KEEPALIVE_BUTTON_HOURS = 4;

/** Retirement DMs and channel lines, limit warnings, keep-alive confirmations. */
export async function renderLifecycleEvent(
  deps: BotDeps,
  client: WebClient,
  e: EventOf<'container.retired'> | EventOf<'retire.confirm'> | EventOf<'limit.warning'> | EventOf<'keepalive.set'> | EventOf<'job.failed'>,
): Promise<void> {
  switch (e.type) {
    case 'container.retired': {
      // Once per container retired (by its engine id), whichever request or replica delivers it.
      const id = e.containerId ? `retired:${e.host}:${e.containerId}` : e.requestId;
      await once(deps.redis, `${id}:dm`, () => upsert(client, e.reply, e.owner.slackUserId, retiredMessage(e, deps.config.package_notices.timezone)));
      await once(deps.redis, `${id}:recent`, () =>
        recordRetirement(deps.redis, e.owner.slackUserId, {
          project: e.project,
          container: e.container,
          host: e.host,
          reason: e.reason,
          at: e.at,
          lostPackages: e.lostPackages,
        }),
      );
      const channel = deps.config.notify_channel;
      if (channel) await once(deps.redis, `${id}:channel`, () => client.chat.postMessage({ channel, text: retiredChannelLine(e) }));
      return;
    }
    case 'retire.confirm':
      return upsert(client, e.reply, e.owner.slackUserId, retireConfirmMessage(e));
    case 'limit.warning':
      return upsert(client, null, e.owner.slackUserId, warningMessage(e, KEEPALIVE_BUTTON_HOURS));
    case 'keepalive.set':
      return upsert(client, e.reply, e.owner.slackUserId, keepaliveSetMessage(e));
    case 'job.failed':
      return upsert(client, e.reply, e.owner.slackUserId, lifecycleFailedMessage(e));
  }
}

import type { App, BlockButtonAction } from '@slack/bolt';
import { z } from 'zod';
import { findUserBySlackId, personOf } from '../../../config/ds01-config.js';
import { ProjectName } from '../../../ds01/naming.js';
import { userMessageOf } from '../../../shared/errors.js';
import { queueKeepalive } from '../../commands/keepalive.js';
import { clickedMessage, requestIdForClick } from '../../button-message.js';
import type { BotDeps } from '../../deps.js';

const KeepaliveValue = z.object({ project: ProjectName, hours: z.number().positive().max(168) });

const RetireAnywayValue = z.object({ project: ProjectName, host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/) });

/** [Keep alive] on a limit warning (the confirmation replaces the warning); [Retire anyway]. */
export function registerLifecycleActions(app: App, deps: BotDeps): void {
  app.action<BlockButtonAction>('retire_anyway', async ({ ack, body, client }) => {
    await ack();
    const user = findUserBySlackId(deps.config, body.user.id);
    const say = (text: string) => client.chat.postMessage({ channel: body.user.id, text });
    if (!user) return void (await say(`You're not registered with DS01 on Slack, so I can't change containers for you. Ask ${deps.config.admin_contact}.`));
    let value;
    try {
      value = RetireAnywayValue.parse(JSON.parse(body.actions[0]?.value ?? ''));
    } catch {
      return void (await say('That button is out of date; use `/ds01 retire <project> --force` instead.'));
    }
    const message = clickedMessage(body);
    // One retirement per confirmation message, however often the button is clicked.
    const requestId = requestIdForClick('ra', message);
    try {
      // The container is always the clicking user's own: its name comes from their uid, not the button.
      await deps.jobs.add(
        value.host,
        {
          kind: 'retire',
          requestId,
          owner: personOf(user),
          requestedBy: user.user,
          project: value.project,
          reply: message,
          reason: 'user',
          relaunch: false,
          confirmFirst: false,
        },
        `retire-${user.uid}-${value.project}-${requestId}`,
      );
    } catch (err) {
      await say(userMessageOf(err));
    }
  });

  app.action<BlockButtonAction>('keepalive', async ({ ack, body, client }) => {
    await ack();
    const user = findUserBySlackId(deps.config, body.user.id);
    const say = (text: string) => client.chat.postMessage({ channel: body.user.id, text });
    if (!user) return void (await say(`You're not registered with DS01 on Slack, so I can't change containers for you. Ask ${deps.config.admin_contact}.`));
    let value;
    try {
      value = KeepaliveValue.parse(JSON.parse(body.actions[0]?.value ?? ''));
    } catch {
      return void (await say('That button is out of date; use `/ds01 keepalive <project> [hours]` instead.'));
    }
    try {
      const refused = await queueKeepalive(deps, user, value.project, value.hours, clickedMessage(body));
      if (refused) await say(refused);
    } catch (err) {
      await say(userMessageOf(err));
    }
  });
}

import type { App, BlockButtonAction } from '@slack/bolt';
import { z } from 'zod';
import { findUserBySlackId } from '../../../config/ds01-config.js';
import { ProjectName } from '../../../ds01/naming.js';
import { userMessageOf } from '../../../shared/errors.js';
import { queueKeepalive } from '../../commands/keepalive.js';
import { newRequestId } from '../../../queue/jobs-client.js';
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
    const channel = body.container?.channel_id ?? body.channel?.id;
    const ts = body.container?.message_ts ?? body.message?.ts;
    // One retirement per confirmation message, however often the button is clicked.
    const requestId = channel && ts ? `ra-${channel}-${ts}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80) : newRequestId();
    try {
      // The container is always the clicking user's own: its name comes from their uid, not the button.
      await deps.jobs.add(
        value.host,
        {
          kind: 'retire',
          requestId,
          owner: { slackUserId: user.slack_id, user: user.user, uid: user.uid },
          requestedBy: user.user,
          project: value.project,
          reply: channel && ts ? { channel, ts } : null,
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
    const channel = body.container?.channel_id ?? body.channel?.id;
    const ts = body.container?.message_ts ?? body.message?.ts;
    const say = (text: string) => client.chat.postMessage({ channel: body.user.id, text });
    if (!user) return void (await say(`You're not registered with DS01 on Slack, so I can't change containers for you. Ask ${deps.config.admin_contact}.`));
    let value;
    try {
      value = KeepaliveValue.parse(JSON.parse(body.actions[0]?.value ?? ''));
    } catch {
      return void (await say('That button is out of date; use `/ds01 keepalive <project> [hours]` instead.'));
    }
    try {
      const refused = await queueKeepalive(deps, user, value.project, value.hours, channel && ts ? { channel, ts } : null);
      if (refused) await say(refused);
    } catch (err) {
      await say(userMessageOf(err));
    }
  });
}

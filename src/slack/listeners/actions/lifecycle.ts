import type { App, BlockButtonAction } from '@slack/bolt';
import { z } from 'zod';
import { findUserBySlackId } from '../../../config/ds01-config.js';
import { ProjectName } from '../../../ds01/naming.js';
import { userMessageOf } from '../../../shared/errors.js';
import { queueKeepalive } from '../../commands/keepalive.js';
import type { BotDeps } from '../../deps.js';

const KeepaliveValue = z.object({ project: ProjectName, hours: z.number().positive().max(168) });

/** [Keep alive] on a limit warning: the confirmation replaces the warning. */
export function registerLifecycleActions(app: App, deps: BotDeps): void {
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

import type { AllMiddlewareArgs, App, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { findUserBySlackId, personOf, type UserEntry } from '../../../config/ds01-config.js';
import { notRegisteredText } from '../../not-registered.js';
import { ProjectName } from '../../../ds01/naming.js';
import { userMessageOf } from '../../../shared/errors.js';
import { queueKeepalive } from '../../commands/keepalive.js';
import { clickedMessage, requestIdForClick } from '../../button-message.js';
import type { BotDeps } from '../../deps.js';

const KeepaliveValue = z.object({ project: ProjectName, hours: z.number().positive().max(168) });

const RetireAnywayValue = z.object({ project: ProjectName, host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/) });

type ButtonHandler<T> = (a: { user: UserEntry; value: T; body: BlockButtonAction; say: (text: string) => Promise<unknown> }) => Promise<void>;

/**
 * What every lifecycle button does first: ack, find the clicking user, read the button's value.
 * Anything that goes wrong after that reaches the user as a DM sentence.
 */
function lifecycleButton<T>(deps: BotDeps, schema: z.ZodType<T>, staleHint: string, handler: ButtonHandler<T>) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const say = (text: string) => client.chat.postMessage({ channel: body.user.id, text });
    const user = findUserBySlackId(deps.config, body.user.id);
    if (!user) return void (await say(notRegisteredText(deps.config, body.user.id, 'change containers')));
    let value: T;
    try {
      value = schema.parse(JSON.parse(body.actions[0]?.value ?? ''));
    } catch {
      return void (await say(`That button is out of date, so I did nothing; use ${staleHint} instead.`));
    }
    try {
      await handler({ user, value, body, say });
    } catch (err) {
      await say(userMessageOf(err));
    }
  };
}

/** [Retire anyway] on a retire question; [Keep alive] on a limit warning (the confirmation replaces it). */
export function registerLifecycleActions(app: App, deps: BotDeps): void {
  app.action<BlockButtonAction>(
    'retire_anyway',
    lifecycleButton(deps, RetireAnywayValue, '`/ds01 retire <project> --force`', async ({ user, value, body }) => {
      const message = clickedMessage(body);
      // One retirement per confirmation message, however often the button is clicked.
      const requestId = requestIdForClick('ra', message);
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
    }),
  );

  app.action<BlockButtonAction>(
    'keepalive',
    lifecycleButton(deps, KeepaliveValue, '`/ds01 keepalive <project> [hours]`', async ({ user, value, body, say }) => {
      const refused = await queueKeepalive(deps, user, value.project, value.hours, clickedMessage(body));
      if (refused) await say(refused);
    }),
  );
}

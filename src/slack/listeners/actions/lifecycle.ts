import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { findUserBySlackId, personOf, type UserEntry } from '../../../config/ds01-config.js';
import { notRegisteredText } from '../../not-registered.js';
import { ProjectName } from '../../../ds01/naming.js';
import { userMessageOf } from '../../../shared/errors.js';
import { queueKeepalive } from '../../commands/keepalive.js';
import { claimClick, clickedMessage, releaseClick, requestIdForClick } from '../../button-message.js';
import type { BotDeps } from '../../deps.js';
import type { ActionRouter } from './router.js';
import { alreadyText, claimRetirement } from '../../retire-claim.js';

const KeepaliveValue = z.object({ project: ProjectName, hours: z.number().positive().max(168) });

const RetireAnywayValue = z.object({ project: ProjectName, host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/) });

type ButtonHandler<T> = (a: { user: UserEntry; value: T; body: BlockButtonAction; client: WebClient; say: (text: string) => Promise<unknown> }) => Promise<void>;

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
      await handler({ user, value, body, client, say });
    } catch (err) {
      await say(userMessageOf(err));
    }
  };
}

/** [Retire anyway] on a retire question; [Keep alive] on a limit warning (the confirmation replaces it). */
export function registerLifecycleActions(app: ActionRouter, deps: BotDeps): void {
  app.action<BlockButtonAction>(
    'retire_anyway',
    lifecycleButton(deps, RetireAnywayValue, '`/ds01 retire <project> --force`', async ({ user, value, body, client, say }) => {
      const message = clickedMessage(body);
      // One retirement per confirmation message, however often the button is clicked: a later click
      // does nothing (the first one's outcome replaces the question on that very message).
      const requestId = requestIdForClick('ra', message);
      if (!(await claimClick(deps.redis, 'retire_anyway', message, requestId))) {
        deps.log.info({ project: value.project }, '[Retire anyway] clicked again; the first click stands');
        return;
      }
      try {
        // And one retirement per container, whoever else asked for it meanwhile.
        const target = await claimRetirement(deps, user, value.project, requestId, value.host);
        if (target.kind !== 'claimed') {
          const text =
            target.kind === 'none'
              ? `You have no container for \`${value.project}\` on ${value.host} any more, so there was nothing to retire.`
              : alreadyText(target, value.project);
          if (message) await client.chat.update({ channel: message.channel, ts: message.ts, text, blocks: [] });
          else await say(text);
          return;
        }
        // The container is always the clicking user's own: its name comes from their uid, not the button.
        await deps.jobs
          .add(
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
              ...(target.containerId ? { containerId: target.containerId } : {}),
            },
            `retire-${user.uid}-${value.project}-${requestId}`,
          )
          .catch(async (err: unknown) => {
            await target.release();
            throw err;
          });
      } catch (err) {
        await releaseClick(deps.redis, 'retire_anyway', message, requestId);
        throw err;
      }
    }),
  );

  app.action<BlockButtonAction>(
    'keepalive',
    lifecycleButton(deps, KeepaliveValue, '`/ds01 keepalive <project> [hours]`', async ({ user, value, body, say }) => {
      const message = clickedMessage(body);
      // One keep-alive per warning: the confirmation replaces the warning, a second click adds nothing.
      const requestId = requestIdForClick('ka', message);
      if (!(await claimClick(deps.redis, 'keepalive', message, requestId))) {
        deps.log.info({ project: value.project }, '[Keep alive] clicked again; the first click stands');
        return;
      }
      const refused = await queueKeepalive(deps, user, value.project, value.hours, message, requestId).catch(async (err: unknown) => {
        await releaseClick(deps.redis, 'keepalive', message, requestId);
        throw err;
      });
      if (refused) {
        await releaseClick(deps.redis, 'keepalive', message, requestId);
        await say(refused);
      }
    }),
  );
}

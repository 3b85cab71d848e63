import { createHash } from 'node:crypto';
import type { AllMiddlewareArgs, AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { RedisKey } from '../contract/queues.js';
import type { BotDeps } from './deps.js';

/**
 * The identical interaction delivered again (a proxy's retry, a client that re-sends, the same
 * request reaching two bot replicas) is acknowledged and otherwise ignored: the first delivery's
 * answer is the one the user sees. Slack gives every click, submit and slash command its own
 * trigger_id (and a click its own action_ts), so two real clicks never hash alike.
 *
 * Slash commands are claimed by their listener after the ack (`firstDelivery`), so `help`, a typo
 * or an answer from memory never waits on Redis, and only the work after the ack runs once.
 *
 * Events API deliveries are not handled here: their retries carry the same event_id on purpose
 * and are claimed by event id where they are handled (event-dedupe.ts).
 */
const SEEN_TTL_S = 3600;

function isInteraction(body: Record<string, unknown>): boolean {
  return body.type === 'block_actions' || body.type === 'view_submission';
}

export function deliveryKey(body: unknown): string {
  return RedisKey.delivery(createHash('sha256').update(JSON.stringify(body)).digest('hex'));
}

/**
 * True for the first delivery of this exact request. When Redis does not answer, the work after the
 * ack (which needs Redis itself) goes ahead and tells the user what failed.
 */
export async function firstDelivery(deps: BotDeps, body: unknown): Promise<boolean> {
  try {
    return (await deps.redis.set(deliveryKey(body), '1', 'EX', SEEN_TTL_S, 'NX')) === 'OK';
  } catch {
    return true;
  }
}

/** Listener middleware for clicks and submits (the action router's and the modal's listeners). */
export function ignoreRedelivery(deps: BotDeps): Middleware<AnyMiddlewareArgs> {
  return async (args: AnyMiddlewareArgs & AllMiddlewareArgs) => {
    const body = args.body as unknown as Record<string, unknown>;
    if (!isInteraction(body)) return args.next();
    const first = (await deps.redis.set(deliveryKey(body), '1', 'EX', SEEN_TTL_S, 'NX')) === 'OK';
    if (first) return args.next();
    deps.log.info({ type: body.type ?? 'slash_command' }, 'the identical interaction arrived again; acknowledged and ignored');
    const ack = (args as { ack?: () => Promise<void> }).ack;
    if (ack) await ack();
  };
}

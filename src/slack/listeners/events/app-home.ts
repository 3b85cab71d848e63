import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { SlackRouter } from '../router.js';
import type { WebClient } from '@slack/web-api';
import { findUserBySlackId } from '../../../config/ds01-config.js';
import { homeView } from '../../blocks/home.js';
import type { BotDeps } from '../../deps.js';
import { claimEvent } from '../../event-dedupe.js';
import { mostAsked } from '../../faq/ask.js';
import type { QueueEntry } from '../../../queue/gpu-queue.js';

const MOST_ASKED = 5;

/** How long a user's Home waits for more queue changes before it is published again. */
const LIVE_DEBOUNCE_MS = 1000;

/**
 * Opening the bot's Home tab publishes a fresh view of the user's containers, images and the GPUs.
 * After that it follows the GPU queue: when a user's places in it change, their Home is published
 * again (at most once a second per user). Only users who opened the Home on this bot replica are
 * followed; the others see the change the next time they open it.
 */
export function registerAppHome(app: SlackRouter, deps: BotDeps): void {
  const opened = new Set<string>();
  const pending = new Map<string, NodeJS.Timeout>();
  deps.hosts.onQueueChange((before, after) => {
    // Nobody follows the queue here: nothing to compare (the queue may hold thousands).
    if (opened.size === 0) return;
    for (const slackUserId of changedPlaces(before, after, opened)) {
      if (pending.has(slackUserId)) continue;
      const timer = setTimeout(() => {
        pending.delete(slackUserId);
        publishHome(deps, app.client, slackUserId).catch((err: Error) => deps.log.warn({ err: err.message }, 'could not publish the App Home'));
      }, LIVE_DEBOUNCE_MS);
      timer.unref();
      pending.set(slackUserId, timer);
    }
  });
  app.event('app_home_opened', appHomeOpened(deps, opened));
}

/**
 * The Slack users whose places in the GPU queue (which launches, at which position) differ; with
 * `among`, only those users are compared.
 */
export function changedPlaces(before: QueueEntry[], after: QueueEntry[], among?: ReadonlySet<string>): Set<string> {
  const places = (q: QueueEntry[]) => {
    const out = new Map<string, string>();
    q.forEach((e, i) => {
      const id = e.owner.slackUserId;
      if (among && !among.has(id)) return;
      out.set(id, `${out.get(id) ?? ''}${e.requestId}@${i}${e.pending ? 'p' : ''};`);
    });
    return out;
  };
  const a = places(before);
  const b = places(after);
  const changed = new Set<string>();
  for (const id of new Set([...a.keys(), ...b.keys()])) if (a.get(id) !== b.get(id)) changed.add(id);
  return changed;
}

export function appHomeOpened(deps: BotDeps, opened?: Set<string>) {
  return async ({ event, body, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    // The same event fires for the Messages tab, which has nothing to publish.
    if (event.tab !== 'home') return;
    if (body.event_id && !(await claimEvent(deps.redis, body.event_id))) return;
    opened?.add(event.user);
    await publishHome(deps, client, event.user);
  };
}

/** Builds and publishes the Home tab for one user (also after a quick action changes things). */
export async function publishHome(deps: BotDeps, client: WebClient, slackUserId: string): Promise<void> {
  const user = findUserBySlackId(deps.config, slackUserId);
  const [hosts, asked] = await Promise.all([deps.hosts.online(), mostAsked(deps.redis, MOST_ASKED)]);
  const view = homeView({
    slackUserId,
    user: user ? { user: user.user, uid: user.uid } : null,
    hosts,
    mostAsked: asked.map(({ topic, count }) => ({ topic: { id: topic.id, title: topic.title }, count })),
    adminContact: deps.config.admin_contact,
    queue: deps.hosts.view()?.queue ?? [],
  });
  await client.views.publish({ user_id: slackUserId, view });
}

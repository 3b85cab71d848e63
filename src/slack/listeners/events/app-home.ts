import type { AllMiddlewareArgs, App, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { findUserBySlackId } from '../../../config/ds01-config.js';
import { homeView } from '../../blocks/home.js';
import type { BotDeps } from '../../deps.js';
import { claimEvent } from '../../event-dedupe.js';
import { mostAsked } from '../../faq/ask.js';

const MOST_ASKED = 5;

/** Opening the bot's Home tab publishes a fresh view of the user's containers, images and the GPUs. */
export function registerAppHome(app: App, deps: BotDeps): void {
  app.event('app_home_opened', appHomeOpened(deps));
}

export function appHomeOpened(deps: BotDeps) {
  return async ({ event, body, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    // The same event fires for the Messages tab, which has nothing to publish.
    if (event.tab !== 'home') return;
    if (body.event_id && !(await claimEvent(deps.redis, body.event_id))) return;
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

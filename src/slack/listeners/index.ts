import type { AllMiddlewareArgs, App } from '@slack/bolt';
import type { BotDeps } from '../deps.js';
import { registerActions } from './actions/index.js';
import { registerCommands } from './commands/index.js';
import { registerEvents } from './events/index.js';
import { SlackRouter } from './router.js';
import { registerViews } from './views/index.js';

/**
 * Every Slack listener, registered by kind (commands, actions, views, events) on one router, which
 * Bolt runs as its only middleware of ours (router.ts says why). `before` sees every request first.
 */
export function registerListeners(app: App, deps: BotDeps, before?: (args: AllMiddlewareArgs) => void): SlackRouter {
  const router = new SlackRouter(app.client, deps.log);
  registerCommands(router, deps);
  registerActions(router, deps);
  registerViews(router, deps);
  registerEvents(router, deps);
  router.install(app, before);
  return router;
}

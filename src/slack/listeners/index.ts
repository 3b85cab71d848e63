import type { App } from '@slack/bolt';
import type { BotDeps } from '../deps.js';
import { ignoreRedelivery } from '../delivery-dedupe.js';
import { registerActions } from './actions/index.js';
import { registerCommands } from './commands/index.js';
import { registerEvents } from './events/index.js';
import { registerViews } from './views/index.js';

/** Every Slack listener, registered by kind (commands, actions, views, events). */
export function registerListeners(app: App, deps: BotDeps): void {
  // First: the identical click, submit or command delivered again does nothing a second time.
  app.use(ignoreRedelivery(deps));
  registerCommands(app, deps);
  registerActions(app, deps);
  registerViews(app, deps);
  registerEvents(app, deps);
}

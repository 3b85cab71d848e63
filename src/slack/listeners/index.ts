import type { App } from '@slack/bolt';
import type { BotDeps } from '../deps.js';
import { registerCommands } from './commands/index.js';

/** Every Slack listener, registered by kind (commands, actions, views, events). */
export function registerListeners(app: App, deps: BotDeps): void {
  registerCommands(app, deps);
}

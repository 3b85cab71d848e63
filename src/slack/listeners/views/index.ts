import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import { registerImageViews } from './image-update.js';

export function registerViews(app: App, deps: BotDeps): void {
  registerImageViews(app, deps);
}

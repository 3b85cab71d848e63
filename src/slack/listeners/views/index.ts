import type { SlackRouter } from '../router.js';
import type { BotDeps } from '../../deps.js';
import { registerImageViews } from './image-update.js';

export function registerViews(app: SlackRouter, deps: BotDeps): void {
  registerImageViews(app, deps);
}

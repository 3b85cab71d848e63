import type { SlackRouter } from '../router.js';
import type { BotDeps } from '../../deps.js';
import { ds01Command } from './ds01.js';

export function registerCommands(app: SlackRouter, deps: BotDeps): void {
  app.command('/ds01', ds01Command(deps));
}

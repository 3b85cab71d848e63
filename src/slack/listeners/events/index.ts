import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';

/** Events API: DMs to the bot (FAQ) and the App Home. */
export function registerEvents(_app: App, _deps: BotDeps): void {}

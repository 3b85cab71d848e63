import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';

/** App Home quick actions (launch, retire, add packages). */
export function registerHomeActions(_app: App, _deps: BotDeps): void {}

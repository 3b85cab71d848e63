import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';

/** FAQ buttons: "did this help?" and the closest-topic buttons. */
export function registerFaqActions(_app: App, _deps: BotDeps): void {}

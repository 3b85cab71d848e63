import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';

/** [Keep alive], [Retire anyway] and friends. */
export function registerLifecycleActions(_app: App, _deps: BotDeps): void {}

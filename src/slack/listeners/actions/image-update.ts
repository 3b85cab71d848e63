import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';

/** [Add to image] (image_update_open) and [Recreate container] (recreate_container). */
export function registerImageActions(_app: App, _deps: BotDeps): void {}

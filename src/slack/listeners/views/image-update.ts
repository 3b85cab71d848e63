import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';

/** view_submission of the package modal (callback_id image_update_submit). */
export function registerImageViews(_app: App, _deps: BotDeps): void {}

import { ignoreRedelivery } from '../../delivery-dedupe.js';
import type { BotDeps } from '../../deps.js';
import { registerImageActions } from './image-update.js';
import { registerLifecycleActions } from './lifecycle.js';
import { registerFaqActions } from './faq.js';
import { registerHomeActions } from './home.js';
import { registerGpuQueueActions } from './gpu-queue.js';
import { registerPackageActions } from './packages.js';
import type { SlackRouter } from '../router.js';

/** Every button, by action_id (router.ts). */
export function registerActions(slack: SlackRouter, deps: BotDeps): void {
  const router = slack.actions;
  registerImageActions(router, deps);
  registerLifecycleActions(router, deps);
  registerFaqActions(router, deps);
  registerHomeActions(router, deps);
  registerGpuQueueActions(router, deps);
  registerPackageActions(router, deps);
  // The identical click delivered again is acknowledged and does nothing a second time.
  slack.beforeActions(ignoreRedelivery(deps));
}

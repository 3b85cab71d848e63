import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import { registerImageActions } from './image-update.js';
import { registerLifecycleActions } from './lifecycle.js';
import { registerFaqActions } from './faq.js';
import { registerHomeActions } from './home.js';
import { registerGpuQueueActions } from './gpu-queue.js';
import { registerPackageActions } from './packages.js';
import { ActionRouter } from './router.js';

/** Every button, behind one Bolt listener (router.ts). */
export function registerActions(app: App, deps: BotDeps): void {
  const router = new ActionRouter(deps.log);
  registerImageActions(router, deps);
  registerLifecycleActions(router, deps);
  registerFaqActions(router, deps);
  registerHomeActions(router, deps);
  registerGpuQueueActions(router, deps);
  registerPackageActions(router, deps);
  router.register(app);
}

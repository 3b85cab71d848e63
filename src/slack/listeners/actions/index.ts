import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import { registerImageActions } from './image-update.js';
import { registerLifecycleActions } from './lifecycle.js';
import { registerFaqActions } from './faq.js';
import { registerHomeActions } from './home.js';
import { registerGpuQueueActions } from './gpu-queue.js';
import { registerPackageActions } from './packages.js';

export function registerActions(app: App, deps: BotDeps): void {
  registerImageActions(app, deps);
  registerLifecycleActions(app, deps);
  registerFaqActions(app, deps);
  registerHomeActions(app, deps);
  registerGpuQueueActions(app, deps);
  registerPackageActions(app, deps);
}

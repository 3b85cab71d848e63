import type { WebClient } from '@slack/web-api';
import type { Ds01Event } from '../contract/jobs.js';
import type { BotDeps } from './deps.js';
import { renderImageEvent } from './render/images.js';
import { renderLifecycleEvent } from './render/lifecycle.js';
import { renderPackagesEvent } from './render/packages.js';

/** Events of the image and lifecycle (retire, limits, keep-alive) features. */
export async function renderOtherEvent(deps: BotDeps, client: WebClient, e: Ds01Event): Promise<void> {
  switch (e.type) {
    case 'build.progress':
    case 'build.done':
      return renderImageEvent(deps, client, e);
    case 'job.failed':
      return e.kind === 'build' ? renderImageEvent(deps, client, e) : renderLifecycleEvent(deps, client, e);
    case 'container.retired':
    case 'retire.confirm':
    case 'limit.warning':
    case 'keepalive.set':
      return renderLifecycleEvent(deps, client, e);
    case 'packages.noticed':
      return renderPackagesEvent(deps, client, e);
    default:
      deps.log.warn({ type: e.type }, 'event without a Slack rendering');
  }
}

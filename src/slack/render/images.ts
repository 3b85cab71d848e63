import type { WebClient } from '@slack/web-api';
import type { EventOf } from '../../contract/jobs.js';
import type { BotDeps } from '../deps.js';

/** Build progress, success and failure messages for image updates (updated in place). */
export async function renderImageEvent(
  deps: BotDeps,
  _client: WebClient,
  e: EventOf<'build.progress'> | EventOf<'build.done'> | EventOf<'job.failed'>,
): Promise<void> {
  deps.log.info({ type: e.type }, 'image event (rendering not built yet)');
}

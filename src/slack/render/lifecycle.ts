import type { WebClient } from '@slack/web-api';
import type { EventOf } from '../../contract/jobs.js';
import type { BotDeps } from '../deps.js';

/** Retirement DMs and channel lines, limit warnings, keep-alive confirmations. */
export async function renderLifecycleEvent(
  deps: BotDeps,
  _client: WebClient,
  e: EventOf<'container.retired'> | EventOf<'limit.warning'> | EventOf<'keepalive.set'> | EventOf<'job.failed'>,
): Promise<void> {
  deps.log.info({ type: e.type }, 'lifecycle event (rendering not built yet)');
}

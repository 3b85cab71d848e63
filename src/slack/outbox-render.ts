import type { WebClient } from '@slack/web-api';
import type { Ds01Event } from '../contract/jobs.js';
import type { BotDeps } from './deps.js';

/** Events of the image, retire and limits features (filled in by those features). */
export async function renderOtherEvent(deps: BotDeps, _client: WebClient, e: Ds01Event): Promise<void> {
  deps.log.info({ type: e.type, requestId: e.requestId }, 'event without a Slack rendering yet');
}

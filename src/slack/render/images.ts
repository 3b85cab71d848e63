import type { WebClient } from '@slack/web-api';
import type { EventOf } from '../../contract/jobs.js';
import { buildDoneMessage, buildFailedMessage, buildProgressMessage } from '../blocks/build.js';
import type { BotDeps } from '../deps.js';
import { upsert } from '../outbox.js';
import { endBuild } from '../build-claim.js';

/**
 * Build progress, success and failure messages for image updates: all of them go into the one
 * DM the bot opened when the build was queued (updated in place).
 */
export async function renderImageEvent(deps: BotDeps, client: WebClient, e: EventOf<'build.progress'> | EventOf<'build.done'> | EventOf<'job.failed'>): Promise<void> {
  switch (e.type) {
    case 'build.progress':
      // Without a message to update, each step would become a new DM: only the outcome is posted.
      if (!e.reply) return;
      return upsert(client, e.reply, e.owner.slackUserId, buildProgressMessage(e));
    case 'build.done':
      await endBuild(deps.redis, e.requestId);
      return upsert(client, e.reply, e.owner.slackUserId, buildDoneMessage(e));
    case 'job.failed':
      await endBuild(deps.redis, e.requestId);
      return upsert(client, e.reply, e.owner.slackUserId, buildFailedMessage(e, deps.config.admin_contact));
  }
}

import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { EventOf } from '../../contract/jobs.js';
import { RedisKey } from '../../contract/queues.js';
import { packagesNoticeMessage } from '../blocks/packages.js';
import type { BotDeps } from '../deps.js';

const Where = z.object({ channel: z.string().min(1), ts: z.string().min(1) });

/**
 * A package notice: the first one for a container is a new DM, and every later one updates that
 * message in place (its location is kept by the container's engine id).
 */
export async function renderPackagesEvent(deps: BotDeps, client: WebClient, e: EventOf<'packages.noticed'>): Promise<void> {
  const key = RedisKey.packageNoticeMessage(e.containerId);
  const message = packagesNoticeMessage(e);
  // Once per event, as outbox.ts `once` does (not imported from there: outbox imports the renderers).
  const seen = RedisKey.eventSeen(`out:${e.requestId}:dm`);
  if ((await deps.redis.set(seen, '1', 'EX', 24 * 3600, 'NX')) !== 'OK') return;
  try {
    const raw = await deps.redis.get(key);
    const where = raw ? Where.safeParse(parseJson(raw)) : null;
    if (where?.success) {
      try {
        await client.chat.update({ channel: where.data.channel, ts: where.data.ts, ...message });
        return;
      } catch (err) {
        // Deleted by the user, say: a fresh message instead.
        deps.log.info({ err: (err as Error).message }, 'package notice could not be updated; posting a new one');
      }
    }
    const posted = await client.chat.postMessage({ channel: e.owner.slackUserId, ...message });
    if (posted.channel && posted.ts) await deps.redis.set(key, JSON.stringify({ channel: posted.channel, ts: posted.ts }), 'EX', 30 * 24 * 3600);
  } catch (err) {
    await deps.redis.del(seen);
    throw err;
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

import { Worker, type Job } from 'bullmq';
import type { WebClient } from '@slack/web-api';
import type { KnownBlock } from '@slack/types';
import type { Redis } from 'ioredis';
import { Ds01Event, type ReplyTarget } from '../contract/jobs.js';
import { EVENTS_QUEUE, RedisKey } from '../contract/queues.js';
import { verify } from '../contract/signing.js';
import type { Logger } from '../shared/logger.js';
import type { BotDeps } from './deps.js';
import { launchFailedMessage, launchProgressMessage, launchRunningMessage } from './blocks/launch.js';
import { renderOtherEvent } from './outbox-render.js';
import { gpuReadyMessage, launchWaitingMessage } from './blocks/queue.js';

type Message = { text: string; blocks: KnownBlock[] };

/**
 * Turns the workers' events into Slack messages. One consumer, one event at a time, so the
 * updates of one message land in the order they happened.
 */
export function startOutbox(deps: BotDeps, client: WebClient, connection: Redis, log: Logger): Worker {
  const worker = new Worker(
    EVENTS_QUEUE,
    async (job: Job) => {
      const payload = verify(deps.jobSecret, job.data);
      if (!payload) {
        log.error({ jobId: job.id, name: job.name }, 'event is unsigned or its signature does not match; dropped (someone wrote to Redis directly?)');
        return;
      }
      const parsed = Ds01Event.safeParse(payload);
      if (!parsed.success) {
        log.error({ jobId: job.id, issues: parsed.error.issues }, 'event does not match the contract; dropped');
        return;
      }
      await deliver(deps, client, parsed.data);
    },
    { connection, concurrency: 1 },
  );
  worker.on('failed', (job, err) => log.warn({ jobId: job?.id, err: err.message }, 'event delivery failed; will retry'));
  worker.on('error', (err) => log.error({ err: err.message }, 'outbox error'));
  return worker;
}

/** Update the job's progress message in place, or post a new DM when there is none. */
export async function upsert(client: WebClient, reply: ReplyTarget, ownerSlackId: string, msg: Message): Promise<void> {
  if (reply) {
    await client.chat.update({ channel: reply.channel, ts: reply.ts, text: msg.text, blocks: msg.blocks });
  } else {
    await client.chat.postMessage({ channel: ownerSlackId, text: msg.text, blocks: msg.blocks });
  }
}

/**
 * Runs `fn` once per key: a redelivered event (BullMQ retries a failed delivery) does not repeat
 * the parts that already went out.
 */
export async function once(redis: Redis, key: string, fn: () => Promise<unknown>): Promise<void> {
  const k = RedisKey.eventSeen(`out:${key}`);
  if ((await redis.set(k, '1', 'EX', 24 * 3600, 'NX')) !== 'OK') return;
  try {
    await fn();
  } catch (err) {
    await redis.del(k);
    throw err;
  }
}

async function endLaunch(redis: Redis, uid: number, project: string, requestId: string): Promise<void> {
  const key = RedisKey.launchInflight(uid, project);
  if ((await redis.get(key)) === requestId) await redis.del(key);
}

export async function deliver(deps: BotDeps, client: WebClient, e: Ds01Event): Promise<void> {
  switch (e.type) {
    case 'launch.progress':
      return upsert(client, e.reply, e.owner.slackUserId, launchProgressMessage(e));
    case 'launch.running':
      await endLaunch(deps.redis, e.owner.uid, e.project, e.requestId);
      await deps.gpuQueue.take(e.requestId); // a place it held while its host checked it
      await upsert(client, e.reply, e.owner.slackUserId, launchRunningMessage(e));
      // An update to an old message notifies nobody: a launch that waited for its GPU gets a fresh DM too.
      if (e.fromQueue && !e.alreadyRunning) {
        await once(deps.redis, `${e.requestId}.gpu-ready`, () => client.chat.postMessage({ channel: e.owner.slackUserId, ...gpuReadyMessage(e.project, e.host) }));
      }
      return;
    case 'launch.queued': {
      // Still the same launch: keep it claimed while it waits (a double submit finds it).
      const key = RedisKey.launchInflight(e.owner.uid, e.project);
      if ((await deps.redis.get(key)) === e.requestId) await deps.redis.expire(key, 7 * 24 * 3600);
      return upsert(
        client,
        e.reply,
        e.owner.slackUserId,
        launchWaitingMessage({ project: e.project, requestId: e.requestId, position: e.position, gpus: e.gpus, onHost: e.onHost, reason: e.reason }),
      );
    }
    case 'build.progress':
      if (e.purpose === 'launch') return upsert(client, e.reply, e.owner.slackUserId, launchProgressMessage(e));
      return renderOtherEvent(deps, client, e);
    case 'job.failed':
      if (e.kind === 'launch') {
        await endLaunch(deps.redis, e.owner.uid, e.project, e.requestId);
        await deps.gpuQueue.take(e.requestId);
        return upsert(client, e.reply, e.owner.slackUserId, launchFailedMessage(e));
      }
      return renderOtherEvent(deps, client, e);
    default:
      return renderOtherEvent(deps, client, e);
  }
}

import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Ds01Event } from '../../src/contract/jobs.js';
import { EVENTS_QUEUE } from '../../src/contract/queues.js';
import { sign } from '../../src/contract/signing.js';

/**
 * Sends events back to the bot on the events queue. Events with a stable id are added once only
 * (BullMQ ignores a second add with the same jobId), so a re-run job does not double-post.
 */
export class EventPublisher {
  private readonly queue: Queue;

  constructor(
    connection: Redis,
    private readonly secret: string,
  ) {
    this.queue = new Queue(EVENTS_QUEUE, {
      connection,
      defaultJobOptions: { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600 }, attempts: 5, backoff: { type: 'exponential', delay: 1000 } },
    });
  }

  async publish(event: Ds01Event, dedupeKey?: string): Promise<void> {
    const parsed = Ds01Event.parse(event);
    await this.queue.add(parsed.type, sign(this.secret, parsed), dedupeKey ? { jobId: dedupeKey.replace(/:/g, '_') } : {});
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { HostJob, type HostJobInput } from '../contract/jobs.js';
import { hostQueueName } from '../contract/queues.js';
import { sign } from '../contract/signing.js';

export function newRequestId(): string {
  return `r${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
}

/**
 * Puts jobs on a host's queue. User errors fail at once in the worker; transient ones (engine
 * down, lock busy) are retried with exponential backoff.
 */
export class JobsClient {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: Redis,
    private readonly secret: string,
  ) {}

  private queue(hostId: string): Queue {
    let q = this.queues.get(hostId);
    if (!q) {
      q = new Queue(hostQueueName(hostId), {
        connection: this.connection,
        defaultJobOptions: {
          attempts: 3,
          backoff: { type: 'exponential', delay: 2000 },
          removeOnComplete: { age: 24 * 3600, count: 500 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      });
      this.queues.set(hostId, q);
    }
    return q;
  }

  /**
   * `jobId` is the idempotency key: BullMQ adds a job with a given id once, so a double submit
   * (two clicks, a Slack retry) cannot queue the same work twice.
   */
  async add(hostId: string, job: HostJobInput, jobId: string): Promise<void> {
    const data = HostJob.parse(job);
    await this.queue(hostId).add(data.kind, sign(this.secret, data), { jobId });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

import { Queue, QueueEvents } from 'bullmq';
import { hostQueueName } from '../../src/contract/queues.js';
import { redis } from './services.js';
import { sign } from '../../src/contract/signing.js';
import { TEST_JOB_SECRET } from './processes.js';
import type { LifecycleSummary } from '../../workers/lifecycle/check.js';

/**
 * Runs the worker's lifecycle check as of a chosen time, through the real queue: tests step
 * through hours of idleness in milliseconds without sleeping.
 */
export class LifecycleDriver {
  private readonly conn = redis();
  private readonly queue: Queue;
  private readonly events: QueueEvents;

  constructor(hostId = 'gpu1') {
    this.queue = new Queue(hostQueueName(hostId), { connection: this.conn });
    this.events = new QueueEvents(hostQueueName(hostId), { connection: redis() });
  }

  async ready(): Promise<void> {
    await this.events.waitUntilReady();
  }

  /** Runs one check as of `at` and resolves with its summary. */
  async checkAt(at: number): Promise<LifecycleSummary> {
    const job = await this.queue.add('lifecycle', sign(TEST_JOB_SECRET, { kind: 'lifecycle', now: new Date(at).toISOString() }), { removeOnComplete: 100, removeOnFail: 100 });
    return (await job.waitUntilFinished(this.events, 60_000)) as LifecycleSummary;
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.events.close();
    await this.conn.quit();
  }
}

export const MIN = 60_000;
export const HOUR = 60 * MIN;

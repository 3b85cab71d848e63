import { performance } from 'node:perf_hooks';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * The queue-pickup floor of `npm run bench`: a raw BullMQ worker on the same Redis, with the DS01
 * worker's concurrency and lock settings, whose processor only reports how long the job waited
 * (the same computation as workers/processor.ts's "job started" line). Env: REDIS_URL, QUEUE.
 */
const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
const worker = new Worker(
  process.env.QUEUE!,
  async (job) => {
    const waitedMs = Math.round((performance.timeOrigin + performance.now() - job.timestamp) * 10) / 10;
    process.stdout.write(`${JSON.stringify({ msg: 'job started', jobId: job.id, waitedMs })}\n`);
  },
  { connection, concurrency: 4, lockDuration: 4000, stalledInterval: 2000, maxStalledCount: 3 },
);
void worker.waitUntilReady().then(() => process.stdout.write(`${JSON.stringify({ msg: 'floor worker ready' })}\n`));
process.on(
  'SIGTERM',
  () =>
    void worker
      .close()
      .then(() => connection.quit())
      .then(() => process.exit(0)),
);

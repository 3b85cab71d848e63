import { Queue, Worker } from 'bullmq';
import { redisClient } from '../src/shared/redis-client.js';
import { loadStartup } from '../src/config/startup.js';
import { hostQueueName, RedisKey } from '../src/contract/queues.js';
import { sign } from '../src/contract/signing.js';
import { createLogger } from '../src/shared/logger.js';
import { redisReady, startOpsServer } from '../src/shared/ops-server.js';
import type { WorkerContext } from './context.js';
import { DockerEngine } from './docker/engine.js';
import { loadWorkerEnv } from './env.js';
import { FakeInventory, NvidiaSmiInventory, parseGpuMode, type GpuInventory } from './gpu/inventory.js';
import { hostCapacity } from './host/host-limits.js';
import { coalesced, mayExtend, maxStaleMs } from './host/heartbeat.js';
import { extendSnapshot, publishSnapshot } from './host/host-state.js';
import { createProcessor } from './processor.js';
import { EventPublisher } from './queue/events.js';
import { WorkerMetrics } from './metrics.js';
import { GpuQueue } from '../src/queue/gpu-queue.js';
import { dispatchQueued, rehomeDeadHosts } from './queue/dispatch.js';

/** `npm run worker`: one per GPU host. Consumes this host's queue and reports back to the bot. */
const log = createLogger('ds01-worker');

async function main(): Promise<void> {
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled promise rejection'));
  const { env, jobSecret, config, limits, userOverrides } = loadStartup(log, () => {
    const e = loadWorkerEnv();
    return { ...e, gpuMode: parseGpuMode(e.DS01_GPUS) };
  });
  const hostId = env.DS01_HOST_ID;
  const gpuMode = env.gpuMode;
  if (gpuMode.mode === 'nvidia') await requireNvidiaSmi();
  const connection = redisClient(env, log, 'jobs');
  const redis = redisClient(env, log, 'worker');
  const gpus: GpuInventory =
    gpuMode.mode === 'fake'
      ? new FakeInventory(gpuMode.count, hostId, async () => {
          // Tests and demos set utilisation per GPU UUID in a Redis hash.
          const raw = await redis.hgetall(RedisKey.fakeGpuUtil(hostId));
          return new Map(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
        })
      : new NvidiaSmiInventory();
  const engine = new DockerEngine(env.DOCKER_HOST, hostId);
  const events = new EventPublisher(redis, jobSecret);
  const capacity = hostCapacity();
  const metrics = new WorkerMetrics(hostId);
  // /healthz, /readyz (Redis answers) and /metrics, for compose's healthcheck and Prometheus.
  const metricsServer = env.DS01_METRICS_PORT
    ? await startOpsServer({ ready: redisReady(redis), metrics: metrics.registry }, env.DS01_METRICS_PORT, env.DS01_METRICS_HOST)
    : undefined;

  // Snapshots are built one at a time; asks during a build share one more build after it, so the last
  // one published always reflects the last change and a slow build never piles up more (heartbeat.ts).
  let lastGoodAt: number | null = null;
  const publish = coalesced(async () => {
    try {
      metrics.observeSnapshot(await publishSnapshot(ctx));
      lastGoodAt = Date.now();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'host snapshot not published');
    }
  });
  const refresh = (): Promise<void> => {
    const done = publish();
    // Whatever changed may have freed a GPU: look at the GPU queue (not awaited: it takes the allocation lock).
    placeQueued();
    return done;
  };
  // Alive while this process is, even when a build is slower than the TTL; not once builds keep failing.
  const beat = (): void => {
    void refresh();
    if (mayExtend(lastGoodAt, Date.now(), maxStaleMs(env.DS01_HOST_TTL_S))) {
      extendSnapshot(ctx).catch((err) => log.warn({ err: (err as Error).message }, 'host heartbeat not sent'));
    }
  };
  // One pass at a time; a change during a pass asks for one more.
  let placing: Promise<void> | null = null;
  let again = false;
  const placeQueued = (): void => {
    if (placing) {
      again = true;
      return;
    }
    placing = (async () => {
      do {
        again = false;
        await rehomeDeadHosts(ctx).catch((err) => log.warn({ err: (err as Error).message }, "could not move a dead host's launches"));
        await dispatchQueued(ctx).catch((err) => log.warn({ err: (err as Error).message }, 'GPU queue pass failed; the next snapshot tries again'));
      } while (again && !stopping);
    })().finally(() => {
      placing = null;
    });
  };
  const jobQueue = new Queue(hostQueueName(hostId), { connection: redis });
  let stopping = false;
  const ctx: WorkerContext = {
    hostId,
    config,
    limits,
    ...(userOverrides ? { userOverrides } : {}),
    engine,
    dockerHost: env.DOCKER_HOST,
    gpus,
    redis,
    jobSecret,
    events,
    log,
    metrics,
    capacity,
    buildTimeoutMs: env.DS01_BUILD_TIMEOUT_S * 1000,
    timeScale: env.DS01_TIME_SCALE,
    refreshHost: refresh,
    hostTtlS: env.DS01_HOST_TTL_S,
    gpuQueue: new GpuQueue(redis, jobSecret),
    reservations: new Map(),
    addOwnLaunch: async (job) => {
      await jobQueue.add('launch', sign(jobSecret, job), {
        // Unique per placement: a launch that had to wait again and is placed a second time is a new job
        // (taking it from the GPU queue is what makes it happen once).
        jobId: `launch-${job.owner.uid}-${job.project}-${job.requestId}-q${job.queued?.seq ?? 0}-${Date.now().toString(36)}`,
        attempts: 3,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: { age: 24 * 3600, count: 500 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
    },
  };

  try {
    await engine.ping();
  } catch (err) {
    log.error({ dockerHost: env.DOCKER_HOST, err: (err as Error).message }, 'Docker engine not reachable; jobs will report it to users until it is back');
  }

  const queueName = hostQueueName(hostId);
  const queue = jobQueue;
  // Idle, runtime and hold-after-stop checks, on BullMQ's scheduler (one per host, survives restarts).
  await queue.upsertJobScheduler(
    'lifecycle',
    { every: env.DS01_CHECK_INTERVAL_S * 1000 },
    { name: 'lifecycle', data: sign(jobSecret, { kind: 'lifecycle' }), opts: { removeOnComplete: true, removeOnFail: 50 } },
  );

  const worker = new Worker(queueName, createProcessor(ctx), {
    connection,
    concurrency: env.DS01_WORKER_CONCURRENCY,
    lockDuration: env.DS01_JOB_LOCK_MS,
    stalledInterval: Math.max(1000, Math.floor(env.DS01_JOB_LOCK_MS / 2)),
    maxStalledCount: 3,
  });
  worker.on('error', (err) => log.error({ err: err.message }, 'worker error'));
  worker.on('failed', (job, err) => log.info({ jobId: job?.id, err: err.message }, 'job failed'));
  worker.on('completed', (job) => log.info({ jobId: job.id, name: job.name }, 'job done'));

  await refresh();
  const heartbeat = setInterval(beat, env.DS01_HEARTBEAT_S * 1000);
  log.info({ hostId, queue: queueName, gpus: env.DS01_GPUS, dockerHost: env.DOCKER_HOST, cpus: capacity.cpus }, 'worker ready');

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing running jobs');
    clearInterval(heartbeat);
    await worker.close();
    metricsServer?.close();
    await queue.close();
    await events.close();
    await redis.quit();
    await connection.quit();
    log.info('worker stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * `DS01_GPUS=nvidia` on a host where nvidia-smi cannot run would report itself ready and then fail
 * every GPU launch: stop at start-up instead, saying what to change.
 */
async function requireNvidiaSmi(): Promise<void> {
  try {
    await new NvidiaSmiInventory().slots();
  } catch (err) {
    // A Ds01Error's message is its technical detail (e.g. "nvidia-smi …: ENOENT").
    const detail = (err as Error).message;
    log.fatal(
      { err: detail },
      'cannot start: fix the configuration: DS01_GPUS=nvidia but nvidia-smi does not run here. Install the NVIDIA driver tools (in Docker: reserve the GPUs for the worker, as docker-compose.yml does), or set DS01_GPUS=fake:N on a host without GPUs',
    );
    process.exit(2);
  }
}

main().catch((err: Error) => {
  log.fatal({ err: err.message }, 'cannot start the worker');
  process.exit(1);
});

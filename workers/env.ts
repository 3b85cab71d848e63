import os from 'node:os';
import { z } from 'zod';
import { RedisEnv } from '../src/shared/redis-client.js';
import { DS01_CONFIG_MISSING } from '../src/config/startup.js';

/** Docker's own default engine address. */
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** The worker's environment (operator interface: see README "Configuration"). */
const WorkerEnv = z.object({
  ...RedisEnv.shape,
  DS01_CONFIG: z.string({ error: DS01_CONFIG_MISSING }).min(1, DS01_CONFIG_MISSING),
  DS01_HOST_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'DS01_HOST_ID: letters, digits, `.`, `_`, `-`')
    .default(os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-')),
  DOCKER_HOST: z.string().default(DEFAULT_DOCKER_HOST),
  DS01_GPUS: z.string().default('nvidia'),
  /** Seconds between lifecycle checks (idle, runtime, hold-after-stop). DS01 checks every few minutes. */
  DS01_CHECK_INTERVAL_S: z.coerce.number().positive().default(300),
  /** Build time limit. */
  DS01_BUILD_TIMEOUT_S: z.coerce.number().positive().default(3600),
  /** Scale all limits' hours by this factor (tests compress time; 1 in production). */
  DS01_TIME_SCALE: z.coerce.number().positive().default(1),
  DS01_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(4),
  /** BullMQ job lock: a worker that dies mid-job has its job re-run after about this long. */
  DS01_JOB_LOCK_MS: z.coerce.number().int().min(1000).default(60_000),
  /** Serve /healthz, /readyz and Prometheus /metrics on this port (off when unset). */
  DS01_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** Address those endpoints bind to: loopback unless set (compose sets 0.0.0.0 inside its network). */
  DS01_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  DS01_HEARTBEAT_S: z.coerce.number().positive().default(10),
  /** A host silent this long is shown as down and its waiting launches go elsewhere (must exceed the heartbeat). */
  DS01_HOST_TTL_S: z.coerce.number().int().min(2).default(45),
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

export function loadWorkerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const r = WorkerEnv.safeParse(env);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const key = i.path.join('.');
    throw new Error(i.message.startsWith(key) ? i.message : `${key}: ${i.message}`);
  }
  return r.data;
}

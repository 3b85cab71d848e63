import { App, LogLevel } from '@slack/bolt';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Ds01Config } from './config/ds01-config.js';
import type { BotEnv } from './env.js';
import { HostRegistry } from './hosts/registry.js';
import type { ResourceLimits, UserOverrides } from './limits/resource-limits.js';
import { JobsClient } from './queue/jobs-client.js';
import { GpuQueue } from './queue/gpu-queue.js';
import type { Logger } from './shared/logger.js';
import type { BotDeps } from './slack/deps.js';
import { registerListeners } from './slack/listeners/index.js';
import { startOutbox } from './slack/outbox.js';

export type AppTransport =
  | { kind: 'http'; botToken: string; signingSecret: string; port: number }
  | { kind: 'socket'; botToken: string; appToken: string };

export interface RunningBot {
  app: App;
  deps: BotDeps;
  stop: () => Promise<void>;
}

/** Wires the Bolt app, its listeners, the job queues and the outbox. Starts nothing slow itself. */
export async function startBot(opts: {
  env: BotEnv;
  transport: AppTransport;
  config: Ds01Config;
  limits: ResourceLimits;
  userOverrides?: UserOverrides;
  jobSecret: string;
  log: Logger;
}): Promise<RunningBot> {
  const { env, transport, log } = opts;
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
  const outboxConnection = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
  const gpuQueue = new GpuQueue(redis, opts.jobSecret);
  const hosts = new HostRegistry(redis, gpuQueue, log);
  await hosts.live();
  const deps: BotDeps = {
    config: opts.config,
    limits: opts.limits,
    ...(opts.userOverrides ? { userOverrides: opts.userOverrides } : {}),
    redis,
    jobSecret: opts.jobSecret,
    jobs: new JobsClient(redis, opts.jobSecret),
    hosts,
    gpuQueue,
    log,
  };
  const boltLogger = {
    debug: (...m: unknown[]) => log.debug({ bolt: m.map(String).join(' ') }),
    info: (...m: unknown[]) => log.info({ bolt: m.map(String).join(' ') }),
    warn: (...m: unknown[]) => log.warn({ bolt: m.map(String).join(' ') }),
    error: (...m: unknown[]) => log.error({ bolt: m.map(String).join(' ') }),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
  const app =
    transport.kind === 'http'
      ? new App({ token: transport.botToken, signingSecret: transport.signingSecret, clientOptions: { slackApiUrl: env.SLACK_API_URL }, logger: boltLogger })
      : new App({ token: transport.botToken, appToken: transport.appToken, socketMode: true, clientOptions: { slackApiUrl: env.SLACK_API_URL }, logger: boltLogger });
  app.error(async (err) => {
    log.error({ err: err.message, code: (err as { code?: string }).code }, 'unhandled listener error');
  });
  registerListeners(app, deps);
  if (transport.kind === 'http') await app.start(transport.port);
  else await app.start();
  const outbox: Worker = startOutbox(deps, app.client, outboxConnection, log);
  log.info({ mode: transport.kind, ...(transport.kind === 'http' ? { port: transport.port, path: '/slack/events' } : {}) }, 'DS01 bot ready');
  return {
    app,
    deps,
    stop: async () => {
      await app.stop();
      await outbox.close();
      await deps.jobs.close();
      await hosts.close();
      await redis.quit();
      await outboxConnection.quit();
    },
  };
}

import type { Server } from 'node:http';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import type { Worker } from 'bullmq';
import { redisClient } from './shared/redis-client.js';
import type { Ds01Config } from './config/ds01-config.js';
import type { BotEnv } from './env.js';
import { HostRegistry } from './hosts/registry.js';
import type { ResourceLimits, UserOverrides } from './limits/resource-limits.js';
import { JobsClient } from './queue/jobs-client.js';
import { GpuQueue } from './queue/gpu-queue.js';
import type { Logger } from './shared/logger.js';
import { redisReady, startOpsServer, type OpsEndpoints } from './shared/ops-server.js';
import type { BotDeps } from './slack/deps.js';
import { registerListeners } from './slack/listeners/index.js';
import { slackFetch } from './slack/http-client.js';
import { AckFirst } from './slack/ack-first.js';
import { createSlackHttpServer } from './slack/http-server.js';
import { BotMetrics } from './slack/metrics.js';
import { startOutbox } from './slack/outbox.js';

export type AppTransport =
  | { kind: 'http'; botToken: string; signingSecret: string; port: number; host?: string; opsPort?: number; opsHost?: string }
  | { kind: 'socket'; botToken: string; appToken: string; opsPort?: number; opsHost?: string };

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
  /** The V8 settings main.ts applied (shared/v8-flags.ts), named in the ready line. */
  v8Flags?: readonly string[];
}): Promise<RunningBot> {
  const { env, transport, log } = opts;
  const redis = redisClient(env, log, 'bot');
  const outboxConnection = redisClient(env, log, 'outbox');
  const gpuQueue = new GpuQueue(redis, opts.jobSecret);
  const hosts = new HostRegistry(redis, opts.jobSecret, gpuQueue, log);
  // Not awaited: the bot starts (and says it is not ready) without Redis; the view fills in when it answers.
  void hosts.live().catch((err: Error) => log.warn({ err: err.message }, 'hosts view not live yet; status answers come after the ack'));
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
    ackFirst: new AckFirst(),
  };
  // Bolt logs a debug line or more per request: only built when debug logging is on.
  const debugOn = log.isLevelEnabled('debug');
  const boltLogger = {
    debug: debugOn ? (...m: unknown[]) => log.debug({ bolt: m.map(String).join(' ') }) : () => undefined,
    info: (...m: unknown[]) => log.info({ bolt: m.map(String).join(' ') }),
    warn: (...m: unknown[]) => log.warn({ bolt: m.map(String).join(' ') }),
    error: (...m: unknown[]) => log.error({ bolt: m.map(String).join(' ') }),
    setLevel: () => undefined,
    getLevel: () => (debugOn ? LogLevel.DEBUG : LogLevel.INFO),
    setName: () => undefined,
  };
  // Network-level failures fail fast: the outbox retries delivery itself, and a Slack outage must
  // not hold a listener for half an hour of client-side retries.
  const clientOptions = { slackApiUrl: env.SLACK_API_URL, retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2000 }, fetch: slackFetch };
  const receiver = transport.kind === 'http' ? new HTTPReceiver({ signingSecret: transport.signingSecret, endpoints: ['/slack/events'], logger: boltLogger }) : undefined;
  // No conversation store: nothing here reads it, and Bolt's in-memory one costs every request.
  const common = { token: transport.botToken, clientOptions, logger: boltLogger, convoStore: false as const };
  const app = receiver ? new App({ ...common, receiver }) : new App({ ...common, appToken: (transport as { appToken: string }).appToken, socketMode: true });
  app.error(async (err) => {
    log.error({ err: err.message, code: (err as { code?: string }).code }, 'unhandled listener error');
  });
  const metrics = new BotMetrics(redis);
  metrics.instrumentApp(app);
  registerListeners(app, deps, (args) => {
    deps.ackFirst?.noteRequest();
    metrics.instrumentClient(args.client);
  });
  const ops: OpsEndpoints = { ready: redisReady(redis), metrics: metrics.registry };
  const servers: Server[] = [];
  if (transport.kind === 'http') {
    // Our server in front of Bolt's receiver: bounded request bodies, and the ops endpoints.
    const server = createSlackHttpServer({ receiver: receiver!, ops, log });
    await listen(server, transport.port, transport.host);
    servers.push(server);
  } else {
    await app.start();
  }
  // Socket Mode has no HTTP server of its own: health and metrics go on DS01_METRICS_PORT (in
  // HTTP mode too when set, so a healthcheck reads the same port in both modes).
  if (transport.opsPort) servers.push(await startOpsServer(ops, transport.opsPort, transport.opsHost ?? '127.0.0.1'));
  const outbox: Worker = startOutbox(deps, app.client, outboxConnection, log);
  log.info(
    {
      mode: transport.kind,
      ...(transport.kind === 'http' ? { port: transport.port, path: '/slack/events' } : {}),
      ...(transport.opsPort ? { metricsPort: transport.opsPort } : {}),
      ...(opts.v8Flags?.length ? { v8Flags: opts.v8Flags } : {}),
    },
    'DS01 bot ready',
  );
  return {
    app,
    deps,
    stop: async () => {
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      if (transport.kind === 'socket') await app.stop();
      await outbox.close();
      await metrics.close();
      await deps.jobs.close();
      await hosts.close();
      await redis.quit();
      await outboxConnection.quit();
    },
  };
}

function listen(server: Server, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

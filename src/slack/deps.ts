import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Ds01Config, UserEntry } from '../config/ds01-config.js';
import type { HostRegistry } from '../hosts/registry.js';
import type { ResourceLimits, UserOverrides } from '../limits/resource-limits.js';
import type { JobsClient } from '../queue/jobs-client.js';
import type { GpuQueue } from '../queue/gpu-queue.js';
import type { Logger } from '../shared/logger.js';
import type { AckFirst } from './ack-first.js';

/** What the Slack listeners need; built once in app.ts. */
export interface BotDeps {
  config: Ds01Config;
  limits: ResourceLimits;
  userOverrides?: UserOverrides;
  redis: Redis;
  /** Shared with the workers: jobs are signed and events verified with it. */
  jobSecret: string;
  jobs: JobsClient;
  hosts: HostRegistry;
  gpuQueue: GpuQueue;
  log: Logger;
  /** Follow-up work waits for a burst's acks (ack-first.ts); absent in tests that build bare deps. */
  ackFirst?: AckFirst;
}

/** One slash command invocation by a registered user, after the ack. */
export interface CommandContext {
  deps: BotDeps;
  user: UserEntry;
  slackUserId: string;
  channelId: string;
  triggerId: string;
  respond: RespondFn;
  client: WebClient;
}

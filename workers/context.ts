import type { Redis } from 'ioredis';
import type { Ds01Config, UserEntry } from '../src/config/ds01-config.js';
import { findUserByName } from '../src/config/ds01-config.js';
import type { Person, ReplyTarget } from '../src/contract/jobs.js';
import { effectiveLimits, type ResourceLimits, type UserLimits, type UserOverrides } from '../src/limits/resource-limits.js';
import { Ds01Error, ErrorCode } from '../src/shared/errors.js';
import type { Logger } from '../src/shared/logger.js';
import type { DockerEngine, ResourceSpec } from './docker/engine.js';
import { clampResources, type ContainerResources } from './host/host-limits.js';
import type { GpuInventory } from './gpu/inventory.js';
import type { HostCapacity } from './host/host-limits.js';
import type { EventPublisher } from './queue/events.js';
import type { WorkerMetrics } from './metrics.js';
import type { LaunchJob } from '../src/contract/jobs.js';
import type { GpuQueue } from '../src/queue/gpu-queue.js';

/** Everything a job on this host needs, built once in workers/main.ts. */
export interface WorkerContext {
  hostId: string;
  config: Ds01Config;
  limits: ResourceLimits;
  userOverrides?: UserOverrides;
  engine: DockerEngine;
  /** DOCKER_HOST as configured (users are told how to reach a non-default engine). */
  dockerHost: string;
  gpus: GpuInventory;
  redis: Redis;
  /** Shared with the bot: jobs are verified and events signed with it. */
  jobSecret: string;
  events: EventPublisher;
  log: Logger;
  metrics: WorkerMetrics;
  capacity: HostCapacity;
  buildTimeoutMs: number;
  /** Hours in limits are multiplied by this (1 in production; tests compress time). */
  timeScale: number;
  /**
   * Republishes the host snapshot after anything that changes containers or images; awaited
   * before telling the user, so `/ds01 status` right after a message agrees with it.
   */
  refreshHost: () => Promise<void>;
  /** Seconds a published snapshot lives: a worker silent this long is shown as down. */
  hostTtlS?: number;
  /** The GPU queue shared by all hosts (launches waiting for a GPU). */
  gpuQueue?: GpuQueue;
  /** Puts a launch taken from the GPU queue on this host's own job queue. */
  addOwnLaunch?: (job: LaunchJob) => Promise<void>;
  /** Launches taken from the GPU queue whose container is not made yet: requestId → what they will hold. */
  reservations?: Map<string, { user: string; gpus: number }>;
}

export function ownerEntry(ctx: WorkerContext, owner: Person): UserEntry {
  const entry = findUserByName(ctx.config, owner.user);
  if (!entry || entry.uid !== owner.uid) {
    throw new Ds01Error(ErrorCode.NotRegistered, `${owner.user} is not registered on ${ctx.hostId}. Ask the DS01 admins to add you.`);
  }
  return entry;
}

export function limitsFor(ctx: WorkerContext, user: UserEntry): UserLimits {
  return effectiveLimits(ctx.limits, {
    user: user.user,
    ...(user.group ? { group: user.group } : {}),
    ...(ctx.userOverrides ? { overrides: ctx.userOverrides } : {}),
  });
}

/** The owner's group limits as a container gets them (clamped to this host): also for throwaway containers. */
export function containerLimits(ctx: WorkerContext, limits: UserLimits): ResourceSpec & ContainerResources {
  const res = clampResources(
    { cpus: limits.maxCpus, memoryBytes: limits.memoryBytes, memorySwapBytes: limits.memorySwapBytes, shmSizeBytes: limits.shmSizeBytes },
    ctx.capacity,
    ctx.log,
  );
  return { ...res, pidsLimit: limits.pidsLimit };
}

/** The fields every event about a request carries: which request, where, whose, and when. */
export function eventBase(ctx: Pick<WorkerContext, 'hostId'>, job: { requestId: string; owner: Person; project: string; reply: ReplyTarget }) {
  return { requestId: job.requestId, host: ctx.hostId, owner: job.owner, project: job.project, reply: job.reply, at: nowIso() };
}

export function nowIso(): string {
  return new Date().toISOString();
}

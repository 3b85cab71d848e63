import { z } from 'zod';
import { ProjectName } from '../ds01/naming.js';

/**
 * The job contract: every job the bot puts on a host's queue and every event a worker sends back.
 * Bot and workers both import this module and validate with it on their side of Redis; nothing
 * else crosses that line.
 */

export const RequestId = z.string().regex(/^[A-Za-z0-9_-]{6,80}$/);

/** Who the work is for (the project owner), as resolved by the bot from its config. */
export const Person = z.object({
  slackUserId: z.string().min(1),
  user: z.string().min(1),
  uid: z.number().int().min(0),
});
export type Person = z.infer<typeof Person>;

/** The Slack message a job's progress is written into (updated in place), when there is one. */
export const ReplyTarget = z.object({ channel: z.string().min(1), ts: z.string().min(1) }).nullable();
export type ReplyTarget = z.infer<typeof ReplyTarget>;

export const RetireReason = z.enum(['user', 'admin', 'idle', 'max_runtime', 'recreate', 'hold_after_stop']);
export type RetireReason = z.infer<typeof RetireReason>;

const JobBase = {
  requestId: RequestId,
  /** The project owner. */
  owner: Person,
  /** Who asked (the owner, an admin, or the worker's own lifecycle checks). */
  requestedBy: z.string().min(1),
  project: ProjectName,
  reply: ReplyTarget,
};

/** A launch's place in the GPU queue: its arrival number keeps its turn when it has to wait again. */
export const QueuePlace = z.object({ seq: z.number().int().min(0), enqueuedAt: z.iso.datetime() });
export type QueuePlace = z.infer<typeof QueuePlace>;

export const LaunchJob = z.object({
  kind: z.literal('launch'),
  ...JobBase,
  gpus: z.number().int().min(1).max(16),
  rebuild: z.boolean(),
  /** Its turn in the GPU queue, when it has one: it keeps it if it has to wait (again). */
  queued: QueuePlace.optional(),
  /** Taken from the GPU queue by a host with room: its owner gets a fresh DM when it runs. */
  waited: z.boolean().default(false),
});

export const BuildJob = z.object({
  kind: z.literal('build'),
  ...JobBase,
  noCache: z.boolean(),
  /** Validated package specifiers to add to the Dockerfile before building (image-update). */
  python: z.array(z.string().max(100)).max(50).default([]),
  system: z.array(z.string().max(100)).max(50).default([]),
  /** Why the build runs: a launch that found no image, `--rebuild`, or an image update. */
  purpose: z.enum(['launch', 'image-update']),
});

export const RetireJob = z.object({
  kind: z.literal('retire'),
  ...JobBase,
  reason: RetireReason,
  /** After retiring, launch again from the (new) image: the [Recreate container] button. */
  relaunch: z.boolean().default(false),
  /** Stop short and ask the owner first when pip packages would be lost (`/ds01 retire` without --force). */
  confirmFirst: z.boolean().default(false),
  /** The engine id of the container the bot claimed the retirement of: only that one is retired. */
  containerId: z
    .string()
    .regex(/^[0-9a-f]{12,64}$/)
    .optional(),
});

export const KeepaliveJob = z.object({
  kind: z.literal('keepalive'),
  ...JobBase,
  hours: z.number().positive().max(168),
});

/** Periodic per-host lifecycle pass (idle, runtime, hold-after-stop), from a job scheduler. */
export const LifecycleJob = z.object({
  kind: z.literal('lifecycle'),
  /** Check as of this time instead of the clock (tests step through hours in milliseconds). */
  now: z.iso.datetime().optional(),
});

export const HostJob = z.discriminatedUnion('kind', [LaunchJob, BuildJob, RetireJob, KeepaliveJob, LifecycleJob]);
export type LaunchJob = z.infer<typeof LaunchJob>;
export type BuildJob = z.infer<typeof BuildJob>;
export type RetireJob = z.infer<typeof RetireJob>;
export type KeepaliveJob = z.infer<typeof KeepaliveJob>;
export type LifecycleJob = z.infer<typeof LifecycleJob>;
export type HostJob = z.infer<typeof HostJob>;
export type HostJobInput = z.input<typeof HostJob>;

// ---------------------------------------------------------------------------------------------
// Events: worker → bot, on the events queue. Each carries enough to render its Slack message.

export const GpuRef = z.object({ slot: z.string(), uuid: z.string(), name: z.string() });
export type GpuRef = z.infer<typeof GpuRef>;

const EventBase = {
  requestId: RequestId,
  host: z.string().min(1),
  owner: Person,
  project: ProjectName,
  reply: ReplyTarget,
  at: z.iso.datetime(),
};

export const LaunchStage = z.enum(['building', 'allocating', 'starting']);
export type LaunchStage = z.infer<typeof LaunchStage>;

export const LaunchProgressEvent = z.object({
  type: z.literal('launch.progress'),
  ...EventBase,
  stage: LaunchStage,
  /** Whether the image had to be built for this launch (so the message can show the step). */
  built: z.boolean(),
});

export const LaunchRunningEvent = z.object({
  type: z.literal('launch.running'),
  ...EventBase,
  container: z.string(),
  image: z.string(),
  gpus: z.array(GpuRef),
  /** The host's Docker engine when it is not the default socket, for the "Get in" hint. */
  engine: z.string().max(200).nullable().optional(),
  /** True when the container was already running and nothing new was started. */
  alreadyRunning: z.boolean(),
  built: z.boolean(),
  /** It waited in the GPU queue: the owner is told with a fresh DM, not only the updated message. */
  fromQueue: z.boolean().default(false),
});

/** No GPU the owner may have is free (or they are at their quota): the launch waits in the GPU queue. */
export const LaunchQueuedEvent = z.object({
  type: z.literal('launch.queued'),
  ...EventBase,
  /** 1-based place in the fair order when it joined; null when not known. */
  position: z.number().int().min(1).nullable(),
  gpus: z.number().int().min(1),
  /** Where it may run: null for any host. */
  onHost: z.string().nullable(),
  reason: z.enum(['no-gpu', 'quota', 'host-down']),
});

export const BuildProgressEvent = z.object({
  type: z.literal('build.progress'),
  ...EventBase,
  purpose: z.enum(['launch', 'image-update']),
  step: z.number().int().min(0),
  totalSteps: z.number().int().min(0),
  line: z.string().max(300),
});

export const BuildDoneEvent = z.object({
  type: z.literal('build.done'),
  ...EventBase,
  purpose: z.enum(['launch', 'image-update']),
  image: z.string(),
  added: z.object({ python: z.array(z.string()), system: z.array(z.string()) }),
  /** A container of this project is running from the previous image. */
  runningContainer: z.string().nullable(),
  seconds: z.number().min(0),
});

export const JobFailedEvent = z.object({
  type: z.literal('job.failed'),
  ...EventBase,
  kind: z.enum(['launch', 'build', 'retire', 'keepalive']),
  code: z.string(),
  message: z.string(),
  /** For failed builds: the step that failed, the last lines of its log, and a hint. */
  build: z.object({ step: z.string(), lastLines: z.array(z.string()), hint: z.string() }).optional(),
});

export const RetiredEvent = z.object({
  type: z.literal('container.retired'),
  ...EventBase,
  container: z.string(),
  reason: RetireReason,
  requestedBy: z.string(),
  gpus: z.array(GpuRef),
  ranSeconds: z.number().min(0).nullable(),
  /** pip packages installed only in the container, gone with it (name==version). */
  lostPackages: z.array(z.string()),
  /** Set when the pip comparison could not run (container not running, no pip): say so honestly. */
  packagesUnknown: z.string().nullable(),
  relaunch: z.boolean(),
  /**
   * Lost packages the owner had been told about while the container ran (package notices), with
   * when, and whether they answered [Not needed]. Absent from older workers.
   */
  toldAbout: z
    .array(z.object({ package: z.string().max(200), at: z.iso.datetime(), answer: z.enum(['none', 'not_needed']) }))
    .max(200)
    .default([]),
  /** The engine id of the container retired: its announcement goes out once, whoever asked. */
  containerId: z.string().optional(),
});

/** Retiring would lose packages: the owner is asked first ([Add to image first] / [Retire anyway]). */
export const RetireConfirmEvent = z.object({
  type: z.literal('retire.confirm'),
  ...EventBase,
  container: z.string(),
  lostPackages: z.array(z.string()).min(1),
});

export const LimitWarningEvent = z.object({
  type: z.literal('limit.warning'),
  ...EventBase,
  container: z.string(),
  limit: z.enum(['idle', 'max_runtime']),
  /** Percentage of the limit reached (80/95 for idle, 75/90 for runtime). */
  percent: z.number(),
  /** When the container will be retired if nothing changes. */
  retireAt: z.iso.datetime(),
});

export const KeepaliveSetEvent = z.object({
  type: z.literal('keepalive.set'),
  ...EventBase,
  container: z.string(),
  until: z.iso.datetime(),
  capped: z.boolean(),
});

/** A pip package as listed inside a container (pip's user site): normalised name and version. */
export const PipPackage = z.object({
  name: z.string().min(1).max(100),
  version: z.string().min(1).max(64),
});
export type PipPackage = z.infer<typeof PipPackage>;

/**
 * Packages the owner installed inside a running container (pip's user site), noticed by the
 * lifecycle pass: one DM per container, updated in place. `pending` are offered and not answered
 * yet; `added` were offered and are now declared by the project's Dockerfile.
 */
export const PackagesNoticedEvent = z.object({
  type: z.literal('packages.noticed'),
  ...EventBase,
  container: z.string().min(1).max(200),
  /** The engine's id of that container: a later container with the same name gets its own message. */
  containerId: z.string().regex(/^[a-f0-9]{12,64}$/),
  pending: z.array(PipPackage).max(100),
  added: z.array(PipPackage).max(100),
});

export const Ds01Event = z.discriminatedUnion('type', [
  LaunchProgressEvent,
  LaunchRunningEvent,
  LaunchQueuedEvent,
  BuildProgressEvent,
  BuildDoneEvent,
  JobFailedEvent,
  RetiredEvent,
  RetireConfirmEvent,
  LimitWarningEvent,
  KeepaliveSetEvent,
  PackagesNoticedEvent,
]);
export type Ds01Event = z.infer<typeof Ds01Event>;
export type EventOf<T extends Ds01Event['type']> = Extract<Ds01Event, { type: T }>;

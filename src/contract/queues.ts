/** Every queue name and Redis key in one place (bot and workers agree on these). */
export const EVENTS_QUEUE = 'ds01-events';
export const hostQueueName = (hostId: string): string => `ds01-host-${hostId}`;

/** How long a retirement claim lasts: longer than any retirement takes (pip check, stop grace, retries). */
export const RETIRE_CLAIM_TTL_S = 15 * 60;

export const RedisKey = {
  /** JSON HostSnapshot, refreshed by each worker with a TTL: who is online and what it holds. */
  host: (hostId: string) => `ds01:host:${hostId}`,
  hostsIndex: 'ds01:hosts',
  /** Per-host GPU allocation lock, so two launches never get the same GPU. */
  allocationLock: (hostId: string) => `ds01:lock:alloc:${hostId}`,
  /** Per-project lock for Dockerfile edits and builds. */
  projectLock: (hostId: string, uid: number, project: string) => `ds01:lock:project:${hostId}:${uid}:${project}`,
  /** Claims a launch so a double submit cannot queue it twice (SET NX, cleared when it ends). */
  launchInflight: (uid: number, project: string) => `ds01:inflight:launch:${uid}:${project}`,
  /** The GPU queue, one for all hosts and bot replicas: sorted set requestId → arrival number. */
  gpuQueue: 'ds01:gpuq',
  /** requestId → signed JSON QueueEntry. */
  gpuQueueEntries: 'ds01:gpuq:entries',
  /** Arrival counter (INCR). */
  gpuQueueSeq: 'ds01:gpuq:seq',
  /** Pub/sub: the queue changed (bots refresh their in-memory view). */
  gpuQueueChanged: 'ds01:gpuq:changed',
  /** Pub/sub: a host published a snapshot (the JSON itself), so bots keep theirs in memory. */
  hostsChanged: 'ds01:hosts:changed',
  /** Short lock: one worker moves a dead host's waiting launches back to the GPU queue. */
  rehomeLock: (hostId: string) => `ds01:lock:rehome:${hostId}`,
  /** Idle-check history and warnings already sent, per container. */
  lifecycle: (hostId: string, container: string) => `ds01:lifecycle:${hostId}:${container}`,
  keepalive: (hostId: string, container: string) => `ds01:keepalive:${hostId}:${container}`,
  /**
   * Package notices, per container (hash): `cid` (engine id), `o:<pkg>` offered (JSON {v, at}),
   * `s:<pkg>` silenced by [Not needed], `a:<pkg>` reached the image, `cur` what lives only there.
   */
  packageWatch: (hostId: string, container: string) => `ds01:pkgwatch:${hostId}:${container}`,
  /** Set of container names with package-notice state on this host (cleaned when they go). */
  packageWatchIndex: (hostId: string) => `ds01:pkgwatch:index:${hostId}`,
  /** Where a container's package notice was posted (JSON {channel, ts}), by engine id. */
  packageNoticeMessage: (containerId: string) => `ds01:pkgwatch:msg:${containerId}`,
  /** Package notices sent to a user on one day (the daily cap). */
  packageNoticeCount: (user: string, day: string) => `ds01:pkgwatch:count:${user}:${day}`,
  /** Hash: in-container packages at retirement that had reached an image (`added`) or not (`lost`). */
  packageStats: 'ds01:pkgwatch:stats',
  /** Fake-GPU utilisation source for `DS01_GPUS=fake:N` hosts (hash uuid → percent). */
  fakeGpuUtil: (hostId: string) => `ds01:fake-gpu-util:${hostId}`,
  /** Events already delivered (Slack's retries and BullMQ re-runs must not double-post). */
  eventSeen: (eventId: string) => `ds01:seen:${eventId}`,
  recentRetirements: (slackUserId: string) => `ds01:retirements:${slackUserId}`,
  /**
   * Exactly once. The retirement of one container (by its engine id): whoever holds it is the
   * one request that retires it; the bot takes it before queueing, the worker checks it before
   * stopping anything, so a second click, a second replica or the idle check find it taken.
   */
  retireClaim: (hostId: string, containerId: string) => `ds01:once:retire:${hostId}:${containerId}`,
  /** A container name just retired on a host (which request did it), for requests that arrive after. */
  retiredName: (hostId: string, container: string) => `ds01:once:retired:${hostId}:${container}`,
  /** One Slack delivery (hash of its payload): the identical payload again is ignored. */
  delivery: (hash: string) => `ds01:once:delivery:${hash}`,
  /** A button on one message, or one modal: the first click (submit) acts, later ones are told. */
  clicked: (what: string) => `ds01:once:click:${what}`,
  /** "Did this help?" votes (JSON FeedbackRecord), newest first, capped. */
  faqFeedback: 'ds01:faq:feedback',
  /** Sorted set: topic id → how often it was answered (the App Home's "most asked questions"). */
  faqAsked: 'ds01:faq:asked',
  /** One asked question (JSON), so a later "did this help?" click knows what was asked. */
  faqAsk: (askId: string) => `ds01:faq:ask:${askId}`,
} as const;

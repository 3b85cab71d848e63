import type { Redis } from 'ioredis';
import { decodeHostsChanged, decodeSnapshot, decodeStoredSnapshot, type HostSnapshot, isStale } from '../contract/hosts.js';
import { RedisKey } from '../contract/queues.js';
import { RequestId } from '../contract/jobs.js';
import { fairOrder, type GpuQueue, type QueueEntry } from '../queue/gpu-queue.js';
import { Ds01Error, ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { watchOutages } from '../shared/redis-client.js';

/** More changed entries than this waiting to be read: read the whole queue instead. */
const MAX_CHANGED_IDS = 500;

/** What the bot knows about the hosts right now, without asking Redis. */
export interface HostsView {
  online: HostSnapshot[];
  /** Hosts that reported before and have gone silent (their snapshot expired). */
  down: string[];
  /** The GPU queue in fair order. */
  queue: QueueEntry[];
}

/**
 * The hosts' published snapshots and the GPU queue. After `live()` the bot keeps both in memory,
 * kept current by Redis pub/sub (each worker publishes its snapshot as it stores it; the queue says
 * when it changed), so `/ds01 status`, `gpus`, `limits` and `queue` are answered in the ack itself.
 * A host whose snapshot is older than its TTL is down. A full reload runs on (re)connect and every
 * `resyncMs`, so a missed message costs at most that long.
 */
export class HostRegistry {
  private readonly snaps = new Map<string, { snap: HostSnapshot; expiresAt: number; ttlS: number }>();
  private readonly seen = new Set<string>();
  private queueCache: QueueEntry[] = [];
  private subscriber: Redis | null = null;
  private resync: NodeJS.Timeout | null = null;
  private queueById = new Map<string, QueueEntry>();
  private queueLoading: Promise<void> | null = null;
  private queueFullWanted = false;
  private readonly queueChanged = new Set<string>();
  private readonly queueListeners: Array<(before: QueueEntry[], after: QueueEntry[]) => void> = [];
  private loaded = false;

  constructor(
    private readonly redis: Redis,
    /** The bot's and workers' shared secret: snapshots are signed by their worker (src/contract/hosts.ts). */
    private readonly secret: string,
    private readonly gpuQueue?: GpuQueue,
    private readonly log?: Logger,
  ) {}

  /**
   * Subscribes and loads everything once; from then on the ack path reads memory. Resolves when the
   * first load is done; the bot does not wait for it (it starts without Redis, and `view()` is null
   * until then).
   */
  async live(resyncMs = 15_000): Promise<void> {
    const sub = this.log ? watchOutages(this.redis.duplicate(), this.log, 'hosts-view') : this.redis.duplicate();
    this.subscriber = sub;
    sub.on('message', (channel: string, message: string) => {
      if (channel === RedisKey.hostsChanged) this.onSnapshot(message);
      // The message is the changed entry's id: a claim, so only used to pick what to read (and verify).
      else if (channel === RedisKey.gpuQueueChanged) void this.reloadQueue(RequestId.safeParse(message).success ? message : undefined);
    });
    sub.on('ready', () => void this.reload());
    await sub.subscribe(RedisKey.hostsChanged, RedisKey.gpuQueueChanged);
    await this.reload();
    this.resync = setInterval(() => void this.reload(), resyncMs);
    this.resync.unref();
  }

  async close(): Promise<void> {
    if (this.resync) clearInterval(this.resync);
    await this.subscriber?.quit().catch(() => undefined);
    this.subscriber = null;
  }

  private onSnapshot(message: string): void {
    const msg = decodeHostsChanged(this.secret, message);
    if (!msg) return;
    if ('alive' in msg) {
      // The host's stored snapshot still stands (its next one is being built): keep it up, but never
      // past its signed time's limit (a replayed "alive" cannot keep a dead host up).
      const known = this.snaps.get(msg.alive);
      if (known && !isStale(known.snap, known.ttlS)) known.expiresAt = Date.now() + msg.ttlS * 1000;
      return;
    }
    if (isStale(msg.snapshot, msg.ttlS)) return; // an old snapshot published again
    this.seen.add(msg.snapshot.hostId);
    this.snaps.set(msg.snapshot.hostId, { snap: msg.snapshot, expiresAt: Date.now() + msg.ttlS * 1000, ttlS: msg.ttlS });
  }

  private async reload(): Promise<void> {
    try {
      const ids = await this.redis.smembers(RedisKey.hostsIndex);
      for (const id of ids) this.seen.add(id);
      if (ids.length) {
        const pipe = this.redis.pipeline();
        for (const id of ids) pipe.get(RedisKey.host(id)).pttl(RedisKey.host(id));
        const res = (await pipe.exec()) ?? [];
        ids.forEach((id, i) => {
          const raw = res[2 * i]?.[1] as string | null;
          const ttl = Number(res[2 * i + 1]?.[1] ?? -2);
          const stored = decodeStoredSnapshot(this.secret, raw, id);
          if (stored && ttl > 0) this.snaps.set(id, { snap: stored.snapshot, expiresAt: Date.now() + ttl, ttlS: stored.ttlS });
          else this.snaps.delete(id);
        });
      }
      await this.reloadQueue();
      this.loaded = true;
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'could not reload the hosts view; answering from the last one');
    }
  }

  /**
   * Brings the in-memory GPU queue up to date: the whole queue (no id: on (re)connect and every
   * resync), or just the entries a change message named. Each message names the entry it changed, so
   * a launch joining a long queue costs one entry's read, not the whole queue's (reading 2,000 entries
   * took about 4 ms of the event loop, once per launch, and held the acks of a burst of launches).
   * Calls that arrive while a read runs are folded into the next one.
   */
  private reloadQueue(changed?: string): Promise<void> {
    if (!this.gpuQueue) return Promise.resolve();
    if (changed === undefined) this.queueFullWanted = true;
    else if (this.queueChanged.size < MAX_CHANGED_IDS) this.queueChanged.add(changed);
    else this.queueFullWanted = true;
    if (this.queueLoading) return this.queueLoading;
    const q = this.gpuQueue;
    this.queueLoading = (async () => {
      while (this.queueFullWanted || this.queueChanged.size > 0) {
        const full = this.queueFullWanted;
        const ids = [...this.queueChanged];
        this.queueFullWanted = false;
        this.queueChanged.clear();
        const before = this.queueCache;
        if (full) {
          this.queueCache = await q.list();
          this.queueById = new Map(this.queueCache.map((e) => [e.requestId, e]));
        } else {
          for (const [id, entry] of await q.getMany(ids)) {
            if (entry) this.queueById.set(id, entry);
            else this.queueById.delete(id);
          }
          this.queueCache = fairOrder([...this.queueById.values()]);
        }
        for (const listen of this.queueListeners) listen(before, this.queueCache);
      }
    })()
      .catch((err: Error) => {
        // Read it all next time: what was missed is not known.
        this.queueFullWanted = true;
        this.log?.warn({ err: err.message }, 'could not reload the GPU queue view');
      })
      .finally(() => {
        this.queueLoading = null;
      });
    return this.queueLoading;
  }

  /** Called with the GPU queue before and after each reload of the in-memory view (the live App Home). */
  onQueueChange(listener: (before: QueueEntry[], after: QueueEntry[]) => void): void {
    this.queueListeners.push(listener);
  }

  /** The in-memory view (synchronous: for the ack). Null until `live()` has loaded once. */
  view(): HostsView | null {
    if (!this.subscriber || !this.loaded) return null;
    const now = Date.now();
    const online: HostSnapshot[] = [];
    for (const { snap, expiresAt, ttlS } of this.snaps.values()) if (expiresAt > now && !isStale(snap, ttlS, now)) online.push(snap);
    online.sort((a, b) => a.hostId.localeCompare(b.hostId));
    const up = new Set(online.map((h) => h.hostId));
    const down = [...this.seen].filter((id) => !up.has(id)).sort();
    return { online, down, queue: this.queueCache };
  }

  /**
   * Online hosts as Redis has them now (placing work, the App Home, FAQ answers). The ack path reads
   * `view()` instead; `memory: true` takes the in-memory view when there is one.
   */
  async online(opts: { memory?: boolean } = {}): Promise<HostSnapshot[]> {
    const v = opts.memory ? this.view() : null;
    if (v) return v.online;
    const ids = await this.redis.smembers(RedisKey.hostsIndex);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(...ids.map((id) => RedisKey.host(id)));
    const out: HostSnapshot[] = [];
    for (const [i, raw] of raws.entries()) {
      const snap = decodeSnapshot(this.secret, raw, ids[i]);
      if (snap) out.push(snap);
    }
    return out.sort((a, b) => a.hostId.localeCompare(b.hostId));
  }

  /** Online hosts as Redis has them now (work is placed on them), or a clear error when none is. */
  async requireOnline(): Promise<HostSnapshot[]> {
    const hosts = await this.online();
    if (hosts.length === 0) {
      throw new Ds01Error(
        ErrorCode.NoHostOnline,
        'No GPU host is online right now (no DS01 worker has reported in), so nothing was queued. Please tell the DS01 admins; try again once they have it running.',
      );
    }
    return hosts;
  }

  /**
   * Where a project's work goes: the host that already has its container, else the one that has
   * its image, else the host with the most free GPU capacity.
   */
  async hostFor(user: string, uid: number, project: string): Promise<HostSnapshot> {
    const hosts = await this.requireOnline();
    const withContainer = hosts.find((h) => h.containers.some((c) => c.user === user && c.project === project));
    if (withContainer) return withContainer;
    const withImage = hosts.find((h) => h.images.some((i) => i.uid === uid && i.project === project));
    if (withImage) return withImage;
    const free = (h: HostSnapshot) => h.gpus.filter((g) => !g.holder).reduce((s, g) => s + g.gpuEq, 0);
    return [...hosts].sort((a, b) => free(b) - free(a))[0]!;
  }
}

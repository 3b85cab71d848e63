import { z } from 'zod';
import { sign, verify } from './signing.js';

/**
 * What each worker publishes about its host (Redis, with a TTL): the bot answers `/ds01 status`,
 * `/ds01 gpus`, the App Home and picks a host for a launch from these, without touching Docker.
 */
export const HostGpu = z.object({
  slot: z.string(),
  uuid: z.string(),
  name: z.string(),
  gpuEq: z.number(),
  holder: z
    .object({
      container: z.string(),
      user: z.string(),
      /** The project it serves (the container's name for containers DS01 did not make). */
      project: z.string().optional(),
      /** When the GPU was given (DS01's label) or the container made. */
      since: z.string().nullable().optional(),
      /** False for a container outside DS01 (devcontainer, `docker run --gpus`) that holds it. */
      managed: z.boolean().default(true),
    })
    .nullable(),
});

export const HostContainer = z.object({
  /** The engine's id: what the bot claims a retirement by (absent from older workers). */
  id: z.string().optional(),
  name: z.string(),
  user: z.string(),
  project: z.string(),
  state: z.string(),
  image: z.string(),
  gpuUuids: z.array(z.string()),
  createdAt: z.string().nullable(),
  protected: z.boolean(),
  /** False for a container DS01 did not make, listed because the engine gives it a GPU. */
  managed: z.boolean().default(true),
  /** pip packages installed only inside this container (`name==version`), from the package notices. */
  onlyHere: z.array(z.string()).default([]),
});

/** Packages the project's Dockerfile adds (what `/ds01 image-update` shows as already added). */
export const ImagePackages = z.object({ python: z.array(z.string()), system: z.array(z.string()) });
export type ImagePackages = z.infer<typeof ImagePackages>;

export const HostImage = z.object({
  user: z.string(),
  uid: z.number(),
  project: z.string(),
  image: z.string(),
  createdAt: z.string(),
  /** Read from the project's Dockerfile (and the requirements.txt it installs); absent from older workers. */
  packages: ImagePackages.default({ python: [], system: [] }),
});
export type HostImage = z.infer<typeof HostImage>;

export const HostSnapshot = z.object({
  hostId: z.string(),
  updatedAt: z.iso.datetime(),
  gpuMode: z.enum(['nvidia', 'fake']),
  gpus: z.array(HostGpu),
  containers: z.array(HostContainer),
  images: z.array(HostImage),
  /** What one container can really get on this host (DS01's limits are clamped to it). */
  capacity: z.object({ cpus: z.number().positive(), memoryBytes: z.number().positive() }).optional(),
});
export type HostSnapshot = z.infer<typeof HostSnapshot>;
export type HostContainer = z.infer<typeof HostContainer>;
export type HostGpu = z.infer<typeof HostGpu>;

/** A snapshot older than this means the worker is gone. */
export const HOST_SNAPSHOT_TTL_S = 45;

/**
 * A live worker whose snapshot builds are slow keeps its last good snapshot alive for this many TTLs
 * (workers/host/heartbeat.ts); readers take a snapshot signed more than HOST_STALE_TTLS TTLs ago as
 * gone, whatever its key's TTL says. So a key kept alive with EXPIRE, or "alive" messages replayed,
 * by someone with Redis write, cannot keep a dead host up.
 */
export const HOST_EXTEND_TTLS = 4;
export const HOST_STALE_TTLS = HOST_EXTEND_TTLS + 1;

export function isStale(snapshot: HostSnapshot, ttlS: number, now = Date.now()): boolean {
  const at = Date.parse(snapshot.updatedAt);
  return !Number.isFinite(at) || now - at > HOST_STALE_TTLS * ttlS * 1000;
}

/** A stored or published host payload bigger than this is not read (a snapshot of 100 containers is ~50 KB). */
const MAX_HOST_PAYLOAD = 4 * 1024 * 1024;

/**
 * What goes on `RedisKey.hostsChanged`: a new snapshot, or word that the host is alive and its
 * stored snapshot still stands (the heartbeat, while a slow snapshot is being built).
 */
export const HostsChanged = z.union([z.object({ ttlS: z.number().int().positive(), snapshot: HostSnapshot }), z.object({ ttlS: z.number().int().positive(), alive: z.string() })]);
export type HostsChanged = z.infer<typeof HostsChanged>;

/**
 * Snapshots decide what `/ds01 gpus` shows, where launches go and how much of a user's quota the
 * other hosts hold, so they are signed like jobs (src/contract/signing.ts): whoever can write to
 * Redis cannot invent a host with free GPUs or hide a user's holdings.
 */
export function encodeSnapshot(secret: string, snapshot: HostSnapshot, ttlS: number = HOST_SNAPSHOT_TTL_S): string {
  return JSON.stringify(sign(secret, { snapshot, ttlS }));
}

function verifiedJson(secret: string, raw: string | null | undefined): Record<string, unknown> | null {
  if (!raw || raw.length > MAX_HOST_PAYLOAD) return null;
  try {
    return verify(secret, JSON.parse(raw));
  } catch {
    return null;
  }
}

/**
 * The snapshot when it is signed with the secret, is `hostId`'s (when given) and is not stale (its
 * signed time within HOST_STALE_TTLS of its signed TTL); else null.
 */
export function decodeSnapshot(secret: string, raw: string | null | undefined, hostId?: string, now = Date.now()): HostSnapshot | null {
  return decodeStoredSnapshot(secret, raw, hostId, now)?.snapshot ?? null;
}

/** decodeSnapshot with the TTL its worker signed with it. */
export function decodeStoredSnapshot(secret: string, raw: string | null | undefined, hostId?: string, now = Date.now()): { snapshot: HostSnapshot; ttlS: number } | null {
  const stored = verifiedSnapshot(secret, raw, hostId);
  return stored && !isStale(stored.snapshot, stored.ttlS, now) ? stored : null;
}

/**
 * Each host's last verified snapshot, by the exact bytes and secret it was verified with. A launch
 * reads every host's snapshot from Redis to place itself: checking the signature means a canonical
 * JSON of the whole snapshot and an HMAC (at 100 containers a host, most of a launch's CPU), while
 * the bytes change only when the host publishes anew. Other bytes are verified afresh. Frozen, as
 * every reader shares them.
 */
const verifiedSnapshots = new Map<string, { secret: string; raw: string; stored: { snapshot: HostSnapshot; ttlS: number } }>();

function verifiedSnapshot(secret: string, raw: string | null | undefined, hostId?: string): { snapshot: HostSnapshot; ttlS: number } | null {
  const hit = hostId === undefined ? undefined : verifiedSnapshots.get(hostId);
  if (hit && hit.raw === raw && hit.secret === secret) return hit.stored;
  const payload = verifiedJson(secret, raw);
  const parsed = HostSnapshot.safeParse(payload?.snapshot);
  if (!parsed.success || (hostId !== undefined && parsed.data.hostId !== hostId)) return null;
  const ttlS = typeof payload?.ttlS === 'number' && payload.ttlS > 0 ? payload.ttlS : HOST_SNAPSHOT_TTL_S;
  const stored = deepFreeze({ snapshot: parsed.data, ttlS });
  if (hostId !== undefined && typeof raw === 'string') verifiedSnapshots.set(hostId, { secret, raw, stored });
  return stored;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function encodeHostsChanged(secret: string, msg: HostsChanged): string {
  return JSON.stringify(sign(secret, msg));
}

export function decodeHostsChanged(secret: string, raw: string): HostsChanged | null {
  const parsed = HostsChanged.safeParse(verifiedJson(secret, raw));
  return parsed.success ? parsed.data : null;
}

import { Label, ProjectName, parseContainerName } from '../../src/ds01/naming.js';
import type { HostSnapshot } from '../../src/contract/hosts.js';
import { encodeHostsChanged, encodeSnapshot, HOST_SNAPSHOT_TTL_S } from '../../src/contract/hosts.js';
import pLimit from 'p-limit';
import { RedisKey } from '../../src/contract/queues.js';
import { findUserByName } from '../../src/config/ds01-config.js';
import type { WorkerContext } from '../context.js';
import { limitsFor } from '../context.js';
import type { ManagedContainer } from '../docker/engine.js';
import { ImagePackagesReader, readProjectPackages } from '../images/image-packages.js';
import { userIds } from '../user-fs/as-user.js';
import { verifyProjectDir } from '../user-fs/project-path.js';
import { claimedUuids } from '../gpu/claims.js';
import type { GpuSlot } from '../gpu/nvidia-smi.js';

/**
 * The host's allocation state, read the DS01 way: from the ds01.* labels of its containers.
 * There is no other record, so the CLI and the bot see the same GPUs as taken.
 */
export interface ContainerState extends ManagedContainer {
  user: string;
  /**
   * The config user this container belongs to, by DS01's naming alone: its name is
   * `<project>._.<uid>` with that user's uid (and its labels don't name someone else). Labels are
   * claims anyone with the engine can write; the lifecycle acts only on containers with an owner.
   */
  owner: string | null;
  project: string;
  gpuUuids: string[];
  createdAt: string | null;
  protected: boolean;
  /** Whether it still holds its GPUs: running, or stopped within the owner's hold-after-stop time. */
  holdsGpus: boolean;
  /** Made by DS01 (ds01.managed=true). Others are listed only because the engine gives them GPUs; the lifecycle never acts on them. */
  managed: boolean;
}

const ACTIVE = new Set(['running', 'created', 'restarting', 'paused']);

export function gpuUuidsOf(labels: Record<string, string>): string[] {
  const raw = labels[Label.gpuUuids] ?? labels[Label.gpuUuid] ?? '';
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The host's containers as the engine has them: DS01's own (ds01.managed=true), and any other container
 * the engine gives a GPU (a devcontainer, `docker run --gpus`, compose). Each one's `gpuUuids` is what
 * its labels claim unioned with what its device requests and NVIDIA_VISIBLE_DEVICES give it
 * (workers/gpu/claims.ts), so a GPU held outside DS01's labels is never handed out a second time.
 */
export async function readContainers(ctx: WorkerContext, knownSlots?: GpuSlot[]): Promise<ContainerState[]> {
  const [all, slots] = await Promise.all([ctx.engine.listAll(), knownSlots ? Promise.resolve(knownSlots) : ctx.gpus.slots()]);
  ctx.engine.forgetGpuFactsExcept(new Set(all.map((c) => c.id)));
  const withClaims = await Promise.all(all.map(async (c) => ({ c, gpuUuids: claimedUuids(slots, gpuUuidsOf(c.labels), await ctx.engine.gpuFacts(c.id)) })));
  const out: ContainerState[] = [];
  for (const { c, gpuUuids } of withClaims) {
    const managed = c.labels[Label.managed] === 'true';
    if (!managed && gpuUuids.length === 0) continue;
    let holdsGpus = ACTIVE.has(c.state);
    if (!holdsGpus && c.state === 'exited') {
      // DS01 keeps a stopped container's GPU for gpu_hold_after_stop_h, then frees it.
      const named = parseContainerName(c.name);
      const entry = (named && ctx.config.users.find((u) => u.uid === named.uid)) || findUserByName(ctx.config, c.labels[Label.user] ?? '');
      const holdH = entry ? limitsFor(ctx, entry).gpuHoldAfterStopH : null;
      const info = await ctx.engine.findContainer(c.name);
      const finished = info?.finishedAt ? Date.parse(info.finishedAt) : NaN;
      holdsGpus = holdH === null || (Number.isFinite(finished) && Date.now() - finished < holdH * ctx.timeScale * 3600_000);
    }
    const named = parseContainerName(c.name);
    const byUid = named ? ctx.config.users.find((u) => u.uid === named.uid) : undefined;
    const labelUser = c.labels[Label.user];
    const byName = byUid && (labelUser === undefined || labelUser === byUid.user) ? byUid.user : null;
    // Only DS01's own containers have an owner the lifecycle may act for; others still count against their user's quota.
    const owner = managed ? byName : null;
    out.push({
      ...c,
      user: byName ?? labelUser ?? 'unknown',
      owner,
      managed,
      project: named?.project ?? c.labels[Label.project] ?? c.name,
      gpuUuids,
      // When the engine made it, not what a label says.
      createdAt: new Date(c.created * 1000).toISOString(),
      protected: c.labels[Label.protected] === 'true',
      holdsGpus,
    });
  }
  return out;
}

export function holdersOf(containers: ContainerState[]): Array<{ container: string; user: string; gpuUuids: string[] }> {
  return containers.filter((c) => c.holdsGpus && c.gpuUuids.length > 0).map((c) => ({ container: c.name, user: c.user, gpuUuids: c.gpuUuids }));
}

export async function buildSnapshot(ctx: WorkerContext): Promise<HostSnapshot> {
  const slots = await ctx.gpus.slots();
  const [containers, images] = await Promise.all([readContainers(ctx, slots), ctx.engine.listImages('ds01-')]);
  const holderByUuid = new Map<string, HostSnapshot['gpus'][number]['holder']>();
  for (const c of containers) {
    if (!c.holdsGpus) continue;
    const holder = { container: c.name, user: c.user, project: c.project, since: c.labels[Label.gpuAllocated] ?? c.createdAt, managed: c.managed };
    for (const u of c.gpuUuids) {
      if (!holderByUuid.has(u)) holderByUuid.set(u, holder);
      // A claim on a MIG-enabled GPU's parent holds all its slices.
      for (const s of slots) if (s.parentUuid === u && !holderByUuid.has(s.uuid)) holderByUuid.set(s.uuid, holder);
    }
  }
  const onlyHere = await onlyHereByContainer(ctx, containers);
  return {
    hostId: ctx.hostId,
    updatedAt: new Date().toISOString(),
    gpuMode: ctx.gpus.mode,
    capacity: { cpus: ctx.capacity.cpus, memoryBytes: ctx.capacity.memoryBytes },
    gpus: slots.map((s) => ({ slot: s.slot, uuid: s.uuid, name: s.name, gpuEq: s.gpuEq, holder: holderByUuid.get(s.uuid) ?? null })),
    containers: containers.map((c) => ({
      id: c.id,
      name: c.name,
      user: c.user,
      project: c.project,
      state: c.state,
      image: c.image,
      gpuUuids: c.gpuUuids,
      createdAt: c.createdAt,
      protected: c.protected,
      managed: c.managed,
      onlyHere: onlyHere.get(c.name) ?? [],
    })),
    images: await imagesWithPackages(ctx, images),
  };
}

/** What the package notices last saw only inside each running container (one Redis round trip). */
async function onlyHereByContainer(ctx: WorkerContext, containers: ContainerState[]): Promise<Map<string, string[]>> {
  const running = containers.filter((c) => c.state === 'running' && c.owner);
  const out = new Map<string, string[]>();
  if (running.length === 0) return out;
  const pipe = ctx.redis.pipeline();
  for (const c of running) pipe.hmget(RedisKey.packageWatch(ctx.hostId, c.name), 'cid', 'cur');
  const results = (await pipe.exec()) ?? [];
  running.forEach((c, i) => {
    const [cid, cur] = (results[i]?.[1] as [string | null, string | null] | undefined) ?? [null, null];
    if (cid !== c.id || !cur) return;
    try {
      const list = JSON.parse(cur) as unknown;
      if (Array.isArray(list)) out.set(c.name, list.filter((x): x is string => typeof x === 'string').slice(0, 100));
    } catch {
      // unreadable: shown as none
    }
  });
  return out;
}

const packagesReader = new ImagePackagesReader();
/** Project folders read at once (each read is a child process as the user): fifty new images never mean fifty processes. */
const readLimit = pLimit(4);

/**
 * The host's project images, each with the packages its project's Dockerfile adds. Only images that
 * exist are looked at, and an unchanged project folder costs a couple of stat calls (cached).
 */
async function imagesWithPackages(ctx: WorkerContext, images: Array<{ tag: string; created: number }>): Promise<HostSnapshot['images']> {
  const dirs: string[] = [];
  const out = await Promise.all(
    images.map(async (img) => {
      const m = /^ds01-(\d+)\/([^:]+):latest$/.exec(img.tag);
      if (!m) return [];
      const uid = Number(m[1]);
      const project = m[2]!;
      const entry = ctx.config.users.find((u) => u.uid === uid);
      const user = entry?.user ?? String(uid);
      let packages = { python: [] as string[], system: [] as string[] };
      // Only names DS01 could have made are looked up on disk, and only in a verified folder, as the user.
      if (entry && ProjectName.safeParse(project).success) {
        dirs.push(img.tag);
        packages = await packagesReader.read(img.tag, String(img.created), () =>
          readLimit(async () => readProjectPackages(userIds(entry), (await verifyProjectDir(ctx.config, entry, project)).dir)),
        );
      }
      return [{ user, uid, project, image: img.tag, createdAt: new Date(img.created * 1000).toISOString(), packages }];
    }),
  );
  packagesReader.keepOnly(dirs);
  return out.flat();
}

export async function publishSnapshot(ctx: WorkerContext): Promise<HostSnapshot> {
  const snap = await buildSnapshot(ctx);
  const ttlS = ctx.hostTtlS ?? HOST_SNAPSHOT_TTL_S;
  await ctx.redis
    .multi()
    .set(RedisKey.host(ctx.hostId), encodeSnapshot(ctx.jobSecret, snap, ttlS), 'EX', ttlS)
    .sadd(RedisKey.hostsIndex, ctx.hostId)
    // Bots keep the hosts in memory from this (answers without a Redis round trip).
    .publish(RedisKey.hostsChanged, encodeHostsChanged(ctx.jobSecret, { ttlS, snapshot: snap }))
    .exec();
  return snap;
}

/**
 * The heartbeat's "still alive" (workers/host/heartbeat.ts): the stored snapshot gets its TTL back
 * and the bots hear that it still stands. A snapshot that has already expired is not brought back.
 */
export async function extendSnapshot(ctx: WorkerContext): Promise<void> {
  const ttlS = ctx.hostTtlS ?? HOST_SNAPSHOT_TTL_S;
  if ((await ctx.redis.expire(RedisKey.host(ctx.hostId), ttlS)) === 1)
    await ctx.redis.publish(RedisKey.hostsChanged, encodeHostsChanged(ctx.jobSecret, { ttlS, alive: ctx.hostId }));
}

import { Queue } from 'bullmq';
import { decodeSnapshot } from '../../src/contract/hosts.js';
import { LaunchJob } from '../../src/contract/jobs.js';
import { hostQueueName, RedisKey } from '../../src/contract/queues.js';
import { verify } from '../../src/contract/signing.js';
import { findUserByName } from '../../src/config/ds01-config.js';
import { containerName } from '../../src/ds01/naming.js';
import type { UserLimits } from '../../src/limits/resource-limits.js';
import { GpuQueue, type QueueEntry } from '../../src/queue/gpu-queue.js';
import { Ds01Error, ErrorCode, userMessageOf } from '../../src/shared/errors.js';
import type { WorkerContext } from '../context.js';
import { eventBase, limitsFor } from '../context.js';
import { allocateGpus, type GpuHolder } from '../gpu/allocator.js';
import { holdersOf, readContainers } from '../host/host-state.js';
import { withLock } from '../host/lock.js';

/**
 * Starts waiting launches on this host when it has room. Runs after every snapshot (a GPU freed, a
 * container went) under the host's allocation lock, reading who holds what from the engine then and
 * there; GPUs promised to launches it already took from the queue (not yet created) count as held.
 * Walks the queue in its fair order and takes each entry that fits here; a user at their quota is
 * passed over (they wait for their own containers) and blocks nobody behind them. Taking an entry is
 * atomic, so two hosts never start the same one; the launch job checks once more when it allocates,
 * and waits again with the same turn if the GPU went meanwhile.
 */
export async function dispatchQueued(ctx: WorkerContext): Promise<number> {
  if (!ctx.gpuQueue || !ctx.addOwnLaunch) return 0;
  const queue = ctx.gpuQueue;
  const addOwn = ctx.addOwnLaunch;
  if ((await ctx.redis.zcard(RedisKey.gpuQueue)) === 0) return 0;
  try {
    return await withLock(ctx.redis, RedisKey.allocationLock(ctx.hostId), () => dispatchLocked(ctx, queue, addOwn), { waitMs: 3000, busyMessage: 'allocator busy' });
  } catch (err) {
    if (err instanceof Ds01Error && err.code === ErrorCode.Busy) return 0; // the next snapshot tries again
    throw err;
  }
}

async function dispatchLocked(ctx: WorkerContext, queue: GpuQueue, addOwn: (job: LaunchJob) => Promise<void>): Promise<number> {
  const entries = (await queue.list()).filter((e) => !e.pending && (e.host === null || e.host === ctx.hostId));
  if (entries.length === 0) return 0;
  const slots = await ctx.gpus.slots();
  const containers = await readContainers(ctx, slots);
  const holders: GpuHolder[] = holdersOf(containers);
  const reservedBy = new Map<string, number>();
  // Launches taken earlier that have not made their container yet hold their GPUs on paper.
  for (const [requestId, r] of ctx.reservations ?? []) {
    try {
      const got = allocateGpus({ slots, holders, request: { user: r.user, count: r.gpus }, limits: UNLIMITED, userContainerCount: 0 });
      holders.push({ container: `reserved:${requestId}`, user: r.user, gpuUuids: got.slots.map((s) => s.uuid) });
      reservedBy.set(r.user, (reservedBy.get(r.user) ?? 0) + 1);
    } catch {
      // No room for it any more: its launch will find that and wait again.
    }
  }
  const elsewhere = await holdingsElsewhere(ctx);
  let started = 0;
  for (const e of entries) {
    const user = findUserByName(ctx.config, e.owner.user);
    if (!user || user.uid !== e.owner.uid) {
      await dropEntry(
        ctx,
        queue,
        e,
        new Ds01Error(ErrorCode.NotRegistered, `${e.owner.user} is no longer registered with DS01, so the waiting launch of \`${e.project}\` was dropped.`),
      );
      continue;
    }
    const other = elsewhere.get(user.user) ?? { gpuEq: 0, containers: 0 };
    const limits = lessWhatIsHeldElsewhere(limitsFor(ctx, user), other);
    const name = containerName(e.project, user.uid);
    const mine = containers.filter((c) => c.user === user.user && c.holdsGpus && c.name !== name).length + (reservedBy.get(user.user) ?? 0);
    let uuids: string[];
    try {
      uuids = allocateGpus({ slots, holders, request: { user: user.user, count: e.gpus }, limits, userContainerCount: mine, host: ctx.hostId }).slots.map((s) => s.uuid);
    } catch (err) {
      if (err instanceof Ds01Error && err.code === ErrorCode.TooManyGpus) await dropEntry(ctx, queue, e, err);
      continue; // no room here, or the user is at their quota: the next one may fit
    }
    const taken = await queue.take(e.requestId);
    if (!taken) continue; // another host took it first
    ctx.reservations?.set(taken.requestId, { user: user.user, gpus: taken.gpus });
    holders.push({ container: `reserved:${taken.requestId}`, user: user.user, gpuUuids: uuids });
    reservedBy.set(user.user, (reservedBy.get(user.user) ?? 0) + 1);
    try {
      await addOwn(launchJobOf(taken));
    } catch (err) {
      ctx.reservations?.delete(taken.requestId);
      await queue.add({ ...entryFields(taken), pending: false }, { seq: taken.seq, enqueuedAt: taken.enqueuedAt });
      throw err;
    }
    ctx.log.info(
      { requestId: taken.requestId, user: user.user, project: taken.project, waitedS: Math.round((Date.now() - Date.parse(taken.enqueuedAt)) / 1000) },
      'queued launch placed on this host',
    );
    started++;
  }
  return started;
}

const UNLIMITED = { maxGpuSlotsPerContainer: null, maxContainersPerUser: null, maxGpuEquivalents: null, group: 'reserved' } as unknown as UserLimits;

function lessWhatIsHeldElsewhere(l: UserLimits, other: { gpuEq: number; containers: number }): UserLimits {
  return {
    ...l,
    maxGpuEquivalents: l.maxGpuEquivalents === null ? null : Math.max(0, l.maxGpuEquivalents - other.gpuEq),
    maxContainersPerUser: l.maxContainersPerUser === null ? null : Math.max(0, l.maxContainersPerUser - other.containers),
  };
}

/** Per user, GPU-equivalents and GPU-holding containers on the other hosts, from their snapshots. */
async function holdingsElsewhere(ctx: WorkerContext): Promise<Map<string, { gpuEq: number; containers: number }>> {
  const out = new Map<string, { gpuEq: number; containers: number }>();
  const ids = (await ctx.redis.smembers(RedisKey.hostsIndex)).filter((id) => id !== ctx.hostId);
  if (ids.length === 0) return out;
  const raws = await ctx.redis.mget(...ids.map((id) => RedisKey.host(id)));
  for (const [i, raw] of raws.entries()) {
    // Signed by its worker (src/contract/hosts.ts): a forged host cannot hide or invent holdings.
    const snap = decodeSnapshot(ctx.jobSecret, raw, ids[i]);
    if (!snap) continue;
    const byContainer = new Map<string, { user: string; eq: number }>();
    for (const g of snap.gpus) {
      if (!g.holder) continue;
      const c = byContainer.get(g.holder.container) ?? { user: g.holder.user, eq: 0 };
      c.eq += g.gpuEq;
      byContainer.set(g.holder.container, c);
    }
    for (const c of byContainer.values()) {
      const o = out.get(c.user) ?? { gpuEq: 0, containers: 0 };
      o.gpuEq += c.eq;
      o.containers += 1;
      out.set(c.user, o);
    }
  }
  return out;
}

export function entryFields(e: QueueEntry): Omit<QueueEntry, 'seq' | 'enqueuedAt'> {
  const { seq: _seq, enqueuedAt: _at, ...rest } = e;
  return rest;
}

export function launchJobOf(e: QueueEntry): LaunchJob {
  return LaunchJob.parse({
    kind: 'launch',
    requestId: e.requestId,
    owner: e.owner,
    requestedBy: e.requestedBy,
    project: e.project,
    reply: e.reply,
    gpus: e.gpus,
    rebuild: e.rebuild,
    queued: { seq: e.seq, enqueuedAt: e.enqueuedAt },
    waited: true,
  });
}

async function dropEntry(ctx: WorkerContext, queue: GpuQueue, e: QueueEntry, err: Ds01Error): Promise<void> {
  if (!(await queue.take(e.requestId))) return;
  await ctx.events.publish(
    {
      type: 'job.failed',
      ...eventBase(ctx, e),
      kind: 'launch',
      code: err.code,
      message: userMessageOf(err),
    },
    `${e.requestId}.failed`,
  );
}

/**
 * A host whose worker stopped reporting (its snapshot expired) may still have launches waiting on its
 * BullMQ queue: they go back to the GPU queue, keeping their turn, so a live host starts them (with
 * `workspaces_shared: false` they wait for that host, where their workspace is). One
 * worker does this per dead host (a short lock). Launches it was already running stay with it: BullMQ
 * runs them again when it returns, and the engine (not memory) tells it what it had made.
 */
export async function rehomeDeadHosts(ctx: WorkerContext): Promise<number> {
  if (!ctx.gpuQueue) return 0;
  const ids = (await ctx.redis.smembers(RedisKey.hostsIndex)).filter((id) => id !== ctx.hostId);
  let moved = 0;
  for (const id of ids) {
    // Up: a signed snapshot that is not stale (a key merely kept alive in Redis does not count).
    if (decodeSnapshot(ctx.jobSecret, await ctx.redis.get(RedisKey.host(id)), id)) continue;
    if ((await ctx.redis.set(RedisKey.rehomeLock(id), ctx.hostId, 'EX', 30, 'NX')) !== 'OK') continue;
    const q = new Queue(hostQueueName(id), { connection: ctx.redis });
    try {
      const jobs = await q.getJobs(['waiting', 'delayed', 'prioritized'], 0, 500);
      for (const job of jobs) {
        if (job.name !== 'launch') continue;
        const payload = verify(ctx.jobSecret, job.data);
        const parsed = payload ? LaunchJob.safeParse(payload) : null;
        if (!parsed?.success) continue;
        const l = parsed.data;
        const entry = await ctx.gpuQueue.add(
          {
            requestId: l.requestId,
            owner: l.owner,
            requestedBy: l.requestedBy,
            project: l.project,
            gpus: l.gpus,
            rebuild: l.rebuild,
            reply: l.reply,
            host: ctx.config.workspaces_shared ? null : id,
            pending: false,
          },
          l.queued,
          // A launch that held a place whose owner has since left stays gone.
          { onlyIfPresent: l.queued !== undefined && !l.waited },
        );
        await job.remove().catch(() => undefined);
        if (!entry) continue;
        await ctx.events.publish(
          {
            type: 'launch.queued',
            ...eventBase(ctx, l),
            position: null,
            gpus: l.gpus,
            onHost: ctx.config.workspaces_shared ? null : id,
            reason: 'host-down',
          },
          `${l.requestId}.requeued.${id}.${entry.seq}`,
        );
        moved++;
      }
      if (moved) ctx.log.warn({ deadHost: id, moved }, 'a host stopped reporting: its waiting launches went back to the GPU queue');
    } finally {
      await q.close();
    }
  }
  return moved;
}

import { findUserByName, type UserEntry } from '../../src/config/ds01-config.js';
import { RedisKey } from '../../src/contract/queues.js';
import type { UserLimits } from '../../src/limits/resource-limits.js';
import type { WorkerContext } from '../context.js';
import { limitsFor, nowIso } from '../context.js';
import { isHighDemand } from '../gpu/allocator.js';
import { holdersOf, readContainers, type ContainerState } from '../host/host-state.js';
import { retireContainer } from '../jobs/retire.js';
import { userIds } from '../user-fs/as-user.js';
import { nextWarning, type LimitKind } from './warnings.js';
import { watchPackages } from './package-watch.js';

/**
 * One lifecycle pass over this host's DS01 containers, DS01's policy from resource-limits.yaml:
 *  - idle: every GPU of the container below gpu_idle_threshold and its CPU below
 *    cpu_idle_threshold for idle_detection_window checks in a row (after the start-up grace
 *    period); warned at 80 % and 95 % of idle_timeout_h, retired at 100 %. The timeout is cut by
 *    high_demand_idle_reduction while the host's GPUs are in high demand.
 *  - runtime: warned at 75 % and 90 % of max_runtime_h, retired at 100 %.
 *  - keep-alive (`/ds01 keepalive`, or a regular file `/workspace/.keep-alive` whose mtime is
 *    in the past and younger than keepalive_max_duration_h, read inside the container as its
 *    owner, as DS01 does) postpones idle retirement only; the longest run is never extended.
 *    `ds01.protected=true` exempts the container.
 *  - a container stopped outside the bot is removed after container_hold_after_stop_h.
 * Only containers that belong to a user in the bot's config by DS01's naming (`<project>._.<uid>`)
 * are enforced here, and a retirement acts on the very container that was judged (by engine id).
 */
export interface LifecycleSummary {
  checked: number;
  warned: number;
  retired: number;
  /** Package notices offering new packages (package-watch.ts). */
  noticed: number;
}

interface TrackState {
  idleSince?: string;
  idleCount?: string;
  cpuNs?: string;
  sysNs?: string;
  warned?: string;
}

export async function lifecycleCheck(ctx: WorkerContext, now: number): Promise<LifecycleSummary> {
  const summary: LifecycleSummary = { checked: 0, warned: 0, retired: 0, noticed: 0 };
  const began = Date.now();
  const containers = await readContainers(ctx);
  const slots = await ctx.gpus.slots();
  const holders = holdersOf(containers);
  const util = await ctx.gpus.utilisation().catch((err: Error) => {
    ctx.log.warn({ err: err.message }, 'GPU utilisation unavailable; GPUs count as busy this round');
    return null;
  });
  // The engine answers a CPU sample in about a second when its collector is warm: take them all at once.
  const samples = new Map(
    await Promise.all(
      containers.filter((c) => c.state === 'running' && !c.protected && c.owner).map(async (c) => [c.name, await ctx.engine.cpuSample(c.name).catch(() => null)] as const),
    ),
  );
  const retired = new Set<string>();
  for (const c of containers) {
    const owner = c.owner ? findUserByName(ctx.config, c.owner) : undefined;
    if (!owner) continue;
    try {
      const limits = limitsFor(ctx, owner);
      const highDemand = isHighDemand(slots, holders, limits.policies.highDemandThreshold);
      const outcome = await checkContainer(ctx, c, owner, limits, { now, util, highDemand, sample: samples.get(c.name) ?? null });
      summary.checked++;
      if (outcome === 'warned') summary.warned++;
      if (outcome === 'retired') {
        summary.retired++;
        retired.add(c.name);
      }
    } catch (err) {
      ctx.log.error({ container: c.name, err: (err as Error).message }, 'lifecycle check of one container failed; the others go on');
    }
  }
  // Packages installed inside running containers, offered for the image while the container is there.
  const packagesBegan = Date.now();
  summary.noticed = await watchPackages(
    ctx,
    containers.filter((c) => !retired.has(c.name)),
    now,
  ).catch((err: Error) => {
    ctx.log.warn({ err: err.message }, 'package notices skipped this pass');
    return 0;
  });
  ctx.log.info({ ...summary, ms: Date.now() - began, packagesMs: Date.now() - packagesBegan }, 'lifecycle pass');
  return summary;
}

type Outcome = 'ok' | 'warned' | 'retired';

async function checkContainer(
  ctx: WorkerContext,
  c: ContainerState,
  owner: UserEntry,
  limits: UserLimits,
  at: { now: number; util: Map<string, number> | null; highDemand: boolean; sample: { containerNs: number; systemNs: number; onlineCpus: number } | null },
): Promise<Outcome> {
  const { now } = at;
  const hour = 3600_000 * ctx.timeScale;
  const person = { slackUserId: owner.slack_id, user: owner.user, uid: owner.uid };
  const retireFor = async (reason: 'idle' | 'max_runtime' | 'hold_after_stop') => {
    await retireContainer(ctx, {
      requestId: `lc-${c.id.slice(0, 16)}-${reason.replace('_', '-')}`,
      owner: person,
      project: c.project,
      reason,
      requestedBy: 'ds01',
      reply: null,
      relaunch: false,
      containerId: c.id,
    });
    await ctx.redis.del(RedisKey.lifecycle(ctx.hostId, c.name));
    return 'retired' as const;
  };

  if (c.state === 'exited') {
    const holdH = limits.containerHoldAfterStopH;
    if (holdH === null) return 'ok';
    const info = await ctx.engine.findContainer(c.name);
    const finished = info?.finishedAt ? Date.parse(info.finishedAt) : NaN;
    if (Number.isFinite(finished) && now - finished >= holdH * hour) return retireFor('hold_after_stop');
    return 'ok';
  }
  if (c.state !== 'running' || c.protected) return 'ok';

  const key = RedisKey.lifecycle(ctx.hostId, c.name);
  const state = (await ctx.redis.hgetall(key)) as TrackState;
  const update: Record<string, string> = {};

  // CPU over the interval since the last check, from the engine's cumulative counters.
  const sample = at.sample;
  let cpuPct: number | null = null;
  if (sample && state.cpuNs && state.sysNs) {
    const dc = sample.containerNs - Number(state.cpuNs);
    const ds = sample.systemNs - Number(state.sysNs);
    if (ds > 0 && dc >= 0) cpuPct = (dc / ds) * sample.onlineCpus * 100;
  }
  if (sample) {
    update.cpuNs = String(sample.containerNs);
    update.sysNs = String(sample.systemNs);
  }

  const startedAt = Date.parse(c.createdAt ?? '') || now;
  const inGrace = now - startedAt < limits.policies.graceperiodM * 60_000 * ctx.timeScale;
  const gpuIdle = at.util !== null && c.gpuUuids.every((u) => (at.util!.get(u) ?? 0) < limits.policies.gpuIdleThreshold);
  // No CPU reading yet (first check) counts as busy: never retire on missing data.
  const idleNow = !inGrace && gpuIdle && cpuPct !== null && cpuPct < limits.policies.cpuIdleThreshold;
  if (idleNow) {
    update.idleSince = state.idleSince ?? new Date(now).toISOString();
    update.idleCount = String(Number(state.idleCount ?? 0) + 1);
  }
  const idleSince = idleNow ? update.idleSince! : undefined;
  const idleCount = idleNow ? Number(update.idleCount) : 0;
  const warned = new Set((state.warned ?? '').split(',').filter(Boolean));

  // Looked up only when an idle warning or retirement is due (it costs an exec in the container).
  let kept: Promise<boolean> | null = null;
  const keptAlive = () => (kept ??= keepAliveCovers(ctx, c, owner, limits, now));
  let outcome: Outcome = 'ok';

  const consider = async (limit: LimitKind, fraction: number, deadline: number, tag: string): Promise<Outcome | null> => {
    // A keep-alive postpones idle retirement only; the longest run is never extended.
    if (fraction >= 1) return limit === 'idle' && (await keptAlive()) ? 'ok' : retireFor(limit);
    const pct = nextWarning(limit, fraction, warned, tag);
    if (pct === null || (limit === 'idle' && (await keptAlive()))) return null;
    for (const p of limit === 'idle' ? [80, 95] : [75, 90]) if (p <= pct) warned.add(`${limit}:${p}@${tag}`);
    await ctx.events.publish(
      {
        type: 'limit.warning',
        requestId: `lc-${c.id.slice(0, 16)}-warn`,
        host: ctx.hostId,
        owner: person,
        project: c.project,
        reply: null,
        at: nowIso(),
        container: c.name,
        limit,
        percent: pct,
        retireAt: new Date(deadline).toISOString(),
      },
      `lc-${c.id.slice(0, 16)}.${limit}.${pct}.${tag}`,
    );
    return 'warned';
  };

  if (limits.maxRuntimeH !== null) {
    const limitMs = limits.maxRuntimeH * hour;
    const r = await consider('max_runtime', (now - startedAt) / limitMs, startedAt + limitMs, 'run');
    if (r === 'retired') return r;
    if (r) outcome = r;
  }
  if (limits.idleTimeoutH !== null && idleSince && idleCount >= limits.policies.idleDetectionWindow) {
    const timeout = limits.idleTimeoutH * hour * (at.highDemand ? 1 - limits.policies.highDemandIdleReduction : 1);
    const since = Date.parse(idleSince);
    const r = await consider('idle', (now - since) / timeout, since + timeout, idleSince);
    if (r === 'retired') return r;
    if (r) outcome = r;
  }
  update.warned = [...warned].filter((w) => w.startsWith('max_runtime') || (idleSince && w.endsWith(`@${idleSince}`))).join(',');
  const multi = ctx.redis.multi();
  if (!idleNow) multi.hdel(key, 'idleSince', 'idleCount');
  multi.hset(key, update).expire(key, 7 * 24 * 3600);
  await multi.exec();
  return outcome;
}

/**
 * Whether a keep-alive covers `now`: one set from Slack, or DS01's `/workspace/.keep-alive` file.
 * The file is looked at inside the container, as its owner (the worker never follows a path into a
 * user's tree), and counts only when it is a regular file with an mtime that is not in the future
 * and no older than keepalive_max_duration_h (24 h when the limits file gives none).
 */
async function keepAliveCovers(ctx: WorkerContext, c: ContainerState, owner: UserEntry, limits: UserLimits, now: number): Promise<boolean> {
  const until = await ctx.redis.get(RedisKey.keepalive(ctx.hostId, c.name));
  if (until && Date.parse(until) > now) return true;
  const r = await ctx.engine.exec(c.name, ['stat', '-c', '%Y %F', '/workspace/.keep-alive'], userIds(owner), 10_000).catch(() => null);
  if (!r || r.exitCode !== 0) return false;
  const line = r.stdout.slice(0, 200).trim();
  const space = line.indexOf(' ');
  const mtimeMs = Number(line.slice(0, space)) * 1000;
  const kind = line.slice(space + 1);
  if (!Number.isFinite(mtimeMs) || (kind !== 'regular file' && kind !== 'regular empty file')) return false;
  if (mtimeMs > Date.now() + 60_000) return false; // in the future: not a real touch
  const maxH = limits.policies.keepaliveMaxDurationH ?? 24;
  return now - mtimeMs < maxH * 3600_000 * ctx.timeScale;
}

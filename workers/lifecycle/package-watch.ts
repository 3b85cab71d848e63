import type { UserEntry } from '../../src/config/ds01-config.js';
import { findUserByName } from '../../src/config/ds01-config.js';
import { decodeSnapshot } from '../../src/contract/hosts.js';
import type { PipPackage, RetiredEvent } from '../../src/contract/jobs.js';
import { RedisKey } from '../../src/contract/queues.js';
import { imageName } from '../../src/ds01/naming.js';
import type { WorkerContext } from '../context.js';
import { limitsFor, nowIso } from '../context.js';
import type { ContainerState } from '../host/host-state.js';
import { userIds } from '../user-fs/as-user.js';
import { dayOf, declaredVersions, inQuietHours, noticeLists, parseUserSite, planNotice, type WatchState } from './package-notice-plan.js';
import type { z } from 'zod';

/**
 * Package notices: on each lifecycle pass, every running container's pip user site is listed as its
 * owner (containers run as the owner, so what they `pip install` inside lands there and nowhere
 * else), compared with what the project's Dockerfile declares and what was offered already, and
 * new packages are offered to the owner in one DM per container, updated in place. State lives
 * in one Redis hash per container (RedisKey.packageWatch) and goes when the container goes.
 */

/** The command one pass runs in each container: pip's user site only, as JSON. */
export const USER_SITE_CMD = ['pip', 'list', '--user', '--format=json', '--disable-pip-version-check'];
const STATE_TTL_S = 30 * 24 * 3600;

function readState(raw: Record<string, string>): WatchState {
  const state: WatchState = { offered: new Map(), silenced: new Set(), added: new Map() };
  for (const [field, value] of Object.entries(raw)) {
    const kind = field.slice(0, 2);
    const name = field.slice(2);
    if (kind === 'o:') {
      try {
        const o = JSON.parse(value) as { v?: unknown; at?: unknown };
        if (typeof o.v === 'string' && typeof o.at === 'string') state.offered.set(name, { v: o.v, at: o.at });
      } catch {
        // a damaged entry reads as never offered
      }
    } else if (kind === 's:') state.silenced.add(name);
    else if (kind === 'a:') state.added.set(name, value);
  }
  return state;
}

/** The packages each project image's Dockerfile declares, from this host's published snapshot. */
async function declaredByImage(ctx: WorkerContext): Promise<Map<string, Map<string, string | null>>> {
  const raw = await ctx.redis.get(RedisKey.host(ctx.hostId));
  const snap = decodeSnapshot(ctx.jobSecret, raw, ctx.hostId);
  const out = new Map<string, Map<string, string | null>>();
  if (snap) for (const img of snap.images) out.set(img.image, declaredVersions(img.packages.python));
  return out;
}

/** Drops the notice state of a container (its message location too). */
export async function forgetContainer(ctx: WorkerContext, name: string): Promise<void> {
  const key = RedisKey.packageWatch(ctx.hostId, name);
  const cid = await ctx.redis.hget(key, 'cid');
  const multi = ctx.redis.multi().del(key).srem(RedisKey.packageWatchIndex(ctx.hostId), name);
  if (cid) multi.del(RedisKey.packageNoticeMessage(cid));
  await multi.exec();
}

/**
 * One pass over this host's running containers (those a config user owns by DS01's naming).
 * Returns how many notices went out. Containers that are gone lose their state here.
 */
export async function watchPackages(ctx: WorkerContext, containers: ContainerState[], now: number): Promise<number> {
  const present = new Set(containers.map((c) => c.name));
  for (const name of await ctx.redis.smembers(RedisKey.packageWatchIndex(ctx.hostId))) {
    if (!present.has(name)) await forgetContainer(ctx, name);
  }
  const running = containers.filter((c) => c.state === 'running' && c.owner);
  if (running.length === 0) return 0;
  const declared = await declaredByImage(ctx);
  const sent = await Promise.all(
    running.map(async (c) => {
      const owner = findUserByName(ctx.config, c.owner!);
      if (!owner) return 0;
      try {
        return await watchOne(ctx, c, owner, declared.get(imageName(owner.uid, c.project)) ?? new Map(), now);
      } catch (err) {
        ctx.log.warn({ container: c.name, err: (err as Error).message }, 'package check of one container failed; the others go on');
        return 0;
      }
    }),
  );
  return sent.reduce((a, b) => a + b, 0);
}

async function watchOne(ctx: WorkerContext, c: ContainerState, owner: UserEntry, declared: Map<string, string | null>, now: number): Promise<number> {
  const key = RedisKey.packageWatch(ctx.hostId, c.name);
  let raw = await ctx.redis.hgetall(key);
  if (raw.cid && raw.cid !== c.id) {
    // Another container now carries this name: what was offered in the old one does not count.
    await forgetContainer(ctx, c.name);
    raw = {};
  }
  const state = readState(raw);
  const r = await ctx.engine.exec(c.name, USER_SITE_CMD, userIds(owner), 10_000).catch(() => null);
  // Only where idleness is judged at all: not for protected containers or groups without an idle limit.
  if (!c.protected && limitsFor(ctx, owner).idleTimeoutH !== null) await excludeFromIdleWindow(ctx, c.name);
  if (!r || r.exitCode !== 0 || r.truncated) return 0; // no pip, or a container that does not answer: next pass
  const site = parseUserSite(r.stdout);
  if (!site) return 0;

  const plan = planNotice(site, declared, state);
  const cfg = ctx.config.package_notices;
  const off = owner.group !== undefined && cfg.off_for_groups.includes(owner.group);
  let offer: PipPackage[] = [];
  if (plan.fresh.length > 0 && !off && !inQuietHours(now, cfg)) {
    const countKey = RedisKey.packageNoticeCount(owner.user, dayOf(now, cfg.timezone));
    const [[, count]] = (await ctx.redis
      .multi()
      .incr(countKey)
      .expire(countKey, 2 * 24 * 3600)
      .exec()) as [[null, number], unknown];
    if (count <= cfg.daily_cap) offer = plan.fresh;
    else ctx.log.info({ container: c.name, user: owner.user }, 'package notice held back: daily cap reached');
  }

  const at = new Date(now).toISOString();
  const fields: Record<string, string> = { cid: c.id, cur: JSON.stringify(plan.onlyHere.map((p) => `${p.name}==${p.version}`)) };
  for (const p of plan.reached) {
    fields[`a:${p.name}`] = p.version;
    state.added.set(p.name, p.version);
  }
  for (const p of offer) {
    fields[`o:${p.name}`] = JSON.stringify({ v: p.version, at });
    state.offered.set(p.name, { v: p.version, at });
  }
  const tell = offer.length > 0 || (plan.nowAdded.length > 0 && !off);
  const multi = ctx.redis.multi().hset(key, fields).expire(key, STATE_TTL_S).sadd(RedisKey.packageWatchIndex(ctx.hostId), c.name);
  if (tell) multi.hincrby(key, 'seq', 1);
  const results = await multi.exec();
  if (!tell) return 0;

  // Recorded first, then sent: a notice may be lost in a crash, never sent twice.
  const seq = Number(results?.[3]?.[1] ?? 0);
  const lists = noticeLists(site, state);
  const requestId = `pw-${c.id.slice(0, 16)}-${seq}`;
  await ctx.events.publish(
    {
      type: 'packages.noticed',
      requestId,
      host: ctx.hostId,
      owner: { slackUserId: owner.slack_id, user: owner.user, uid: owner.uid },
      project: c.project,
      reply: null,
      at: nowIso(),
      container: c.name,
      containerId: c.id,
      pending: lists.pending.slice(0, 100),
      added: lists.added.slice(0, 100),
    },
    requestId,
  );
  ctx.metrics.packageNotices.inc({ kind: offer.length > 0 ? 'offer' : 'added' });
  return offer.length > 0 ? 1 : 0;
}

/**
 * The `pip list` just run counts as CPU use of the container: the idle check's next interval starts
 * after it (a fresh counter sample replaces the one this pass took), so our own look never makes an
 * idle container seem busy. The sample waits about a second in the engine; containers are looked at
 * in parallel, so a pass takes about a second longer whatever their number (BENCHMARKS.md).
 */
async function excludeFromIdleWindow(ctx: WorkerContext, name: string): Promise<void> {
  const key = RedisKey.lifecycle(ctx.hostId, name);
  if (!(await ctx.redis.hexists(key, 'cpuNs'))) return;
  const after = await ctx.engine.cpuSample(name).catch(() => null);
  if (after) await ctx.redis.hset(key, { cpuNs: String(after.containerNs), sysNs: String(after.systemNs) });
}

type ToldAbout = z.infer<typeof RetiredEvent>['toldAbout'];

/**
 * At retirement: which of the lost packages the owner had been told about (when, and whether they
 * said [Not needed]), and how many in-container packages had reached the image by then.
 */
export async function packagesAtRetirement(ctx: WorkerContext, name: string, containerId: string, lost: string[]): Promise<{ toldAbout: ToldAbout; reached: number }> {
  const raw = await ctx.redis.hgetall(RedisKey.packageWatch(ctx.hostId, name));
  if (raw.cid !== containerId) return { toldAbout: [], reached: 0 };
  const state = readState(raw);
  const lostNames = new Set<string>();
  const toldAbout: ToldAbout = [];
  for (const spec of lost) {
    const n = spec.split('==')[0] ?? spec;
    lostNames.add(n);
    const offered = state.offered.get(n);
    if (offered && !Number.isNaN(Date.parse(offered.at)))
      toldAbout.push({ package: spec, at: new Date(offered.at).toISOString(), answer: state.silenced.has(n) ? 'not_needed' : 'none' });
  }
  const reached = [...state.added.keys()].filter((n) => !lostNames.has(n)).length;
  return { toldAbout, reached };
}

/** Counts a retired container's in-container packages: reached an image, or lost with it. */
export async function countAtRetirement(ctx: WorkerContext, reached: number, lost: number): Promise<void> {
  if (reached + lost === 0) return;
  await ctx.redis.multi().hincrby(RedisKey.packageStats, 'added', reached).hincrby(RedisKey.packageStats, 'lost', lost).exec();
  ctx.metrics.containerPackages.inc({ outcome: 'added' }, reached);
  ctx.metrics.containerPackages.inc({ outcome: 'lost' }, lost);
}

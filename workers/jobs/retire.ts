import type { GpuRef, Person, ReplyTarget, RetireJob, RetireReason } from '../../src/contract/jobs.js';
import { Label, containerName } from '../../src/ds01/naming.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { RETIRE_CLAIM_TTL_S, RedisKey } from '../../src/contract/queues.js';
import { claim, holderOf, release } from '../../src/shared/claim.js';
import type { WorkerContext } from '../context.js';
import { containerLimits, eventBase, limitsFor, ownerEntry } from '../context.js';
import { userIds } from '../user-fs/as-user.js';
import { recordAudit } from '../../src/audit/audit-log.js';
import { crashPoint } from '../crash-point.js';
import { gpuUuidsOf } from '../host/host-state.js';
import { lostPackages } from '../lifecycle/lost-packages.js';
import { countAtRetirement, forgetContainer, packagesAtRetirement } from '../lifecycle/package-watch.js';
import { launch } from './launch.js';

/**
 * Every retirement — by the user, an admin, the idle or runtime limit, a recreate, or a stopped
 * container past its hold time — goes through `retireContainer`, so each one produces the same
 * explanation (what survived, what was lost) and the same channel notification.
 *
 * Safe to run twice: what it found before removing the container is written to Redis first, so a
 * re-run after a crash that finds the container gone still reports it, once (the event's id is
 * fixed by the container).
 *
 * Exactly once per container, whoever asks: a retirement claims the container by its engine id
 * (RedisKey.retireClaim; the bot may have taken it already for this request). A second request
 * for the same container (a second click, a second bot replica, the idle check racing the owner)
 * finds the claim held by another request and does nothing: no stop, no event, no message.
 */
export interface Retirement {
  requestId: string;
  owner: Person;
  project: string;
  reason: RetireReason;
  requestedBy: string;
  reply: ReplyTarget;
  relaunch: boolean;
  /** Ask the owner before losing packages (only the owner's own `/ds01 retire` does). */
  confirmFirst?: boolean;
  /**
   * The engine id of the container that was judged (the lifecycle's checks): only that container
   * is retired, never another one that happens to carry the same name by the time this runs.
   */
  containerId?: string;
}

const recordKey = (hostId: string, requestId: string) => `ds01:retire:${hostId}:${requestId}`;

/** What a request that lost the race is told: nothing (the winner's messages are the answer). */
const duplicate = { gpus: [] as GpuRef[], retired: false, duplicate: true } as const;

type RetireResult = { gpus: GpuRef[]; retired: boolean; duplicate?: boolean };

export async function retireContainer(ctx: WorkerContext, r: Retirement): Promise<RetireResult> {
  const held: { key: string | null } = { key: null };
  try {
    return await retireClaimed(ctx, r, held);
  } catch (err) {
    // A failed attempt gives the container back: its re-run (or the owner's next request) claims it again.
    if (held.key) await release(ctx.redis, held.key, r.requestId).catch(() => undefined);
    throw err;
  }
}

async function retireClaimed(ctx: WorkerContext, r: Retirement, held: { key: string | null }): Promise<RetireResult> {
  const name = containerName(r.project, r.owner.uid);
  const recorded = await ctx.redis.get(recordKey(ctx.hostId, r.requestId));
  const found = await ctx.engine.findContainer(name);
  const claimKey = found ? RedisKey.retireClaim(ctx.hostId, found.id) : null;

  let event;
  if (recorded) {
    // A re-run: what was found before the first attempt stopped it stands.
    event = JSON.parse(recorded) as never;
  } else if (found && claimKey) {
    if (r.containerId && found.id !== r.containerId) {
      throw new Ds01Error(ErrorCode.NotFound, `\`${name}\` on ${ctx.hostId} is not the container that was checked, so it was left alone.`);
    }
    // Taken by this request (by the bot, or by an earlier attempt) or free: go on. Else another
    // request is retiring this very container.
    if (!(await claim(ctx.redis, claimKey, r.requestId, RETIRE_CLAIM_TTL_S)) && (await holderOf(ctx.redis, claimKey)) !== r.requestId) {
      ctx.log.info({ container: name, containerId: found.id, by: await holderOf(ctx.redis, claimKey) }, 'already being retired by another request; nothing to do');
      return duplicate;
    }
    held.key = claimKey;
    // The name is `<project>._.<uid>` from the owner's uid (DS01's naming), so the container is theirs
    // by name; a label saying otherwise means it was made by someone else, and it is left alone.
    if (found.labels[Label.user] !== r.owner.user) {
      // Never act on another user's container, whatever the job says.
      throw new Ds01Error(ErrorCode.NotOwner, `\`${name}\` on ${ctx.hostId} does not belong to ${r.owner.user}, so it was left alone.`);
    }
    const gpus = await gpuRefs(ctx, gpuUuidsOf(found.labels));
    const owner = ownerEntry(ctx, r.owner);
    // The engine's start time, not a label: labels are claims.
    const started = found.startedAt;
    const check = await lostPackages(ctx.engine, name, found.image, found.state === 'running', userIds(owner), containerLimits(ctx, limitsFor(ctx, owner)));
    if (r.confirmFirst && check.lost.length > 0) {
      // Nothing retired: the owner's answer ([Retire anyway]) is a new request for this container.
      await release(ctx.redis, claimKey, r.requestId);
      await ctx.events.publish(
        {
          type: 'retire.confirm',
          ...eventBase(ctx, r),
          container: name,
          lostPackages: check.lost,
        },
        `${r.requestId}.confirm`,
      );
      return { gpus, retired: false };
    }
    // What the package notices told the owner about the packages that are lost now, and when.
    const told = await packagesAtRetirement(ctx, name, found.id, check.lost);
    event = {
      type: 'container.retired' as const,
      ...eventBase(ctx, r),
      container: name,
      reason: r.reason,
      requestedBy: r.requestedBy,
      gpus,
      ranSeconds: started ? Math.max(0, (Date.now() - Date.parse(started)) / 1000) : null,
      lostPackages: check.lost,
      packagesUnknown: check.unknown,
      relaunch: r.relaunch,
      toldAbout: told.toldAbout,
      containerId: found.id,
    };
    await ctx.redis.set(recordKey(ctx.hostId, r.requestId), JSON.stringify(event), 'EX', 24 * 3600);
    // Counted once: a re-run takes the recorded branch above.
    if (check.unknown === null) await countAtRetirement(ctx, told.reached, check.lost.length);
  } else if ((await ctx.redis.get(RedisKey.retiredName(ctx.hostId, name))) !== null) {
    // Gone, retired a moment ago by another request: that one's messages said it all.
    ctx.log.info({ container: name }, 'already retired by another request; nothing to do');
    return duplicate;
  } else {
    throw new Ds01Error(ErrorCode.NotFound, `You have no container for \`${r.project}\` on ${ctx.hostId}, so there was nothing to retire. \`/ds01 status\` lists what you have.`);
  }
  if (found && found.labels[Label.user] === r.owner.user) {
    const user = ownerEntry(ctx, r.owner);
    await ctx.engine.stop(name, limitsFor(ctx, user).policies.sigtermGraceS);
    crashPoint('retire:after-stop');
    await ctx.engine.remove(name);
    await forgetContainer(ctx, name);
    await ctx.redis.set(RedisKey.retiredName(ctx.hostId, name), r.requestId, 'EX', RETIRE_CLAIM_TTL_S);
    await ctx.refreshHost();
    ctx.metrics.retirements.inc({ reason: r.reason });
    // Retirements the worker decides itself have no job of their own to audit.
    if (r.requestedBy === 'ds01') {
      await recordAudit(ctx.redis, ctx.log, { who: 'ds01', owner: r.owner.user, what: `retire:${r.reason}`, target: name, host: ctx.hostId, result: 'done', code: null });
    }
    ctx.log.info({ container: name, reason: r.reason }, 'container retired');
  }
  const retiredId = (event as { containerId?: string }).containerId;
  // Keyed by the container: two requests that both got this far still announce it once.
  await ctx.events.publish(event, retiredId ? `retired.${ctx.hostId}.${retiredId}` : `${r.requestId}.retired`);
  return { gpus: (event as { gpus: GpuRef[] }).gpus, retired: true };
}

async function gpuRefs(ctx: WorkerContext, uuids: string[]): Promise<GpuRef[]> {
  const slots = await ctx.gpus.slots().catch(() => []);
  return uuids.map((u) => {
    const s = slots.find((x) => x.uuid === u);
    return { uuid: u, slot: s?.slot ?? '?', name: s?.name ?? 'GPU' };
  });
}

/** The `retire` job: the user's or an admin's request, and the [Recreate container] button. */
export async function retire(ctx: WorkerContext, job: RetireJob): Promise<void> {
  const { gpus, retired } = await retireContainer(ctx, job);
  if (retired && job.relaunch) {
    await launch(ctx, {
      kind: 'launch',
      requestId: `${job.requestId}-re`,
      owner: job.owner,
      requestedBy: job.requestedBy,
      project: job.project,
      reply: null,
      gpus: Math.max(1, gpus.length),
      rebuild: false,
      waited: false,
    });
  }
}

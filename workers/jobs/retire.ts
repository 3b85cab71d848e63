import type { GpuRef, Person, ReplyTarget, RetireJob, RetireReason } from '../../src/contract/jobs.js';
import { Label, containerName } from '../../src/ds01/naming.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import type { WorkerContext } from '../context.js';
import { containerLimits, limitsFor, nowIso, ownerEntry } from '../context.js';
import { userIds } from '../user-fs/as-user.js';
import { crashPoint } from '../crash-point.js';
import { gpuUuidsOf } from '../host/host-state.js';
import { lostPackages } from '../lifecycle/lost-packages.js';
import { launch } from './launch.js';

/**
 * Every retirement — by the user, an admin, the idle or runtime limit, a recreate, or a stopped
 * container past its hold time — goes through `retireContainer`, so each one produces the same
 * explanation (what survived, what was lost) and the same channel notification.
 *
 * Safe to run twice: what it found before removing the container is written to Redis first, so a
 * re-run after a crash that finds the container gone still reports it, once (the event's id is
 * fixed by the request).
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

export async function retireContainer(ctx: WorkerContext, r: Retirement): Promise<{ gpus: GpuRef[]; retired: boolean }> {
  const name = containerName(r.project, r.owner.uid);
  const recorded = await ctx.redis.get(recordKey(ctx.hostId, r.requestId));
  const found = await ctx.engine.findContainer(name);

  let event;
  if (recorded) {
    // A re-run: what was found before the first attempt stopped it stands.
    event = JSON.parse(recorded) as never;
  } else if (found) {
    if (r.containerId && found.id !== r.containerId) {
      throw new Ds01Error(ErrorCode.NotFound, `\`${name}\` on ${ctx.hostId} is not the container that was checked, so it was left alone.`);
    }
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
      await ctx.events.publish(
        { type: 'retire.confirm', requestId: r.requestId, host: ctx.hostId, owner: r.owner, project: r.project, reply: r.reply, at: nowIso(), container: name, lostPackages: check.lost },
        `${r.requestId}.confirm`,
      );
      return { gpus, retired: false };
    }
    event = {
      type: 'container.retired' as const,
      requestId: r.requestId,
      host: ctx.hostId,
      owner: r.owner,
      project: r.project,
      reply: r.reply,
      at: nowIso(),
      container: name,
      reason: r.reason,
      requestedBy: r.requestedBy,
      gpus,
      ranSeconds: started ? Math.max(0, (Date.now() - Date.parse(started)) / 1000) : null,
      lostPackages: check.lost,
      packagesUnknown: check.unknown,
      relaunch: r.relaunch,
    };
    await ctx.redis.set(recordKey(ctx.hostId, r.requestId), JSON.stringify(event), 'EX', 24 * 3600);
  } else {
    throw new Ds01Error(
      ErrorCode.NotFound,
      `You have no container for \`${r.project}\` on ${ctx.hostId}, so there was nothing to retire. \`/ds01 status\` lists what you have.`,
    );
  }
  if (found && found.labels[Label.user] === r.owner.user) {
    const user = ownerEntry(ctx, r.owner);
    await ctx.engine.stop(name, limitsFor(ctx, user).policies.sigtermGraceS);
    crashPoint('retire:after-stop');
    await ctx.engine.remove(name);
    await ctx.refreshHost();
    ctx.metrics.retirements.inc({ reason: r.reason });
    ctx.log.info({ container: name, reason: r.reason }, 'container retired');
  }
  await ctx.events.publish(event, `${r.requestId}.retired`);
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

import type { GpuRef, LaunchJob, LaunchStage } from '../../src/contract/jobs.js';
import { RedisKey } from '../../src/contract/queues.js';

import { INTERFACE_ORCHESTRATION, Label, containerName, imageName } from '../../src/ds01/naming.js';
import type { WorkerContext } from '../context.js';
import { containerLimits, eventBase, limitsFor, nowIso, ownerEntry } from '../context.js';
import { allocateGpus } from '../gpu/allocator.js';
import type { GpuSlot } from '../gpu/nvidia-smi.js';
import { holdersOf, readContainers } from '../host/host-state.js';
import { withLock } from '../host/lock.js';
import { buildProjectImage, requireProject } from './build.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { userIds, type UserIds } from '../user-fs/as-user.js';
import { verifyProjectDir, type VerifiedProject } from '../user-fs/project-path.js';
import { lstat } from 'node:fs/promises';
import { crashPoint } from '../crash-point.js';
import { DEFAULT_DOCKER_HOST } from '../env.js';

/**
 * A launch that finds no GPU it may have (none free here, or its owner at their quota) waits in the
 * GPU queue instead of failing, keeping its turn when it had one; any host with room starts it later
 * (workers/queue/dispatch.ts). Its owner is told where it stands.
 */
export async function launch(ctx: WorkerContext, job: LaunchJob): Promise<void> {
  const queue = ctx.gpuQueue;
  // Sent here to be checked while it holds a place in the GPU queue (a pending entry).
  const holdsPlace = job.queued !== undefined && !job.waited;
  if (holdsPlace && queue && !(await queue.get(job.requestId))) {
    ctx.log.info({ requestId: job.requestId }, 'its owner left the GPU queue before this host got to it; nothing done');
    return;
  }
  try {
    await launchNow(ctx, job);
  } catch (err) {
    const waits = err instanceof Ds01Error && (err.code === ErrorCode.NoGpuFree || err.code === ErrorCode.QuotaReached) && queue !== undefined;
    if (!waits) throw err;
    const onHost = ctx.config.workspaces_shared ? null : ctx.hostId;
    const entry = await queue!.add(
      {
        requestId: job.requestId,
        owner: job.owner,
        requestedBy: job.requestedBy,
        project: job.project,
        gpus: job.gpus,
        rebuild: false,
        reply: job.reply,
        host: onHost,
        pending: false,
      },
      job.queued,
      { onlyIfPresent: holdsPlace },
    );
    if (!entry) {
      ctx.log.info({ requestId: job.requestId }, 'its owner left the GPU queue while this host checked it; nothing started');
      return;
    }
    const order = await queue!.list();
    const position = order.findIndex((e) => e.requestId === job.requestId) + 1;
    ctx.log.info({ requestId: job.requestId, seq: entry.seq, position, reason: (err as Ds01Error).code }, 'no GPU for this launch now: it waits in the GPU queue');
    await ctx.events.publish(
      {
        type: 'launch.queued',
        ...eventBase(ctx, job),
        position: position > 0 ? position : null,
        gpus: job.gpus,
        onHost,
        reason: (err as Ds01Error).code === ErrorCode.QuotaReached ? 'quota' : 'no-gpu',
      },
      `${job.requestId}.queued.${entry.seq}.${Date.now()}`,
    );
  } finally {
    ctx.reservations?.delete(job.requestId);
    // A held place that is not needed (it started, or failed for good) is taken out by the bot when it
    // hears so (src/slack/outbox.ts); a retried attempt keeps it.
  }
}

/**
 * `/ds01 launch <project>`: build the image if missing, allocate GPUs, create and start
 * `<project>._.<uid>`. Safe to run twice: every step first looks for what an earlier run made
 * (the image, the container carrying this request's id) and finishes it instead of redoing it.
 */
async function launchNow(ctx: WorkerContext, job: LaunchJob): Promise<void> {
  const user = ownerEntry(ctx, job.owner);
  const limits = limitsFor(ctx, user);
  const name = containerName(job.project, job.owner.uid);
  const image = imageName(job.owner.uid, job.project);
  // The folder is checked (real, the user's) before anything; its Dockerfile is read (as the user)
  // only when an image has to be built. A folder that fails the check also takes down what an
  // earlier run of this request made.
  const needsBuild = job.rebuild || !(await ctx.engine.imageExists(image));
  await (needsBuild ? requireProject(ctx, job) : verifyProjectDir(ctx.config, user, job.project)).catch(async (err: unknown) => {
    const made = await ctx.engine.findContainer(name);
    if (made && made.labels[Label.requestId] === job.requestId) await removeAnd(ctx, name)(err);
    throw err;
  });
  const runAs = userIds(user);
  let built = false;

  const progress = (stage: LaunchStage) =>
    ctx.events.publish(
      { type: 'launch.progress', requestId: job.requestId, host: ctx.hostId, owner: job.owner, project: job.project, reply: job.reply, at: nowIso(), stage, built },
      `${job.requestId}.progress.${stage}`,
    );

  const running = async (gpus: GpuRef[], alreadyRunning: boolean) => {
    await ctx.refreshHost();
    await ctx.events.publish(
      {
        type: 'launch.running',
        ...eventBase(ctx, job),
        container: name,
        image,
        gpus,
        alreadyRunning,
        built,
        fromQueue: job.waited,
        engine: ctx.dockerHost === DEFAULT_DOCKER_HOST ? null : ctx.dockerHost,
      },
      `${job.requestId}.running`,
    );
  };

  const slotsByUuid = async () => new Map((await ctx.gpus.slots()).map((s) => [s.uuid, s] as const));
  const refs = (uuids: string[], known: Map<string, GpuSlot>): GpuRef[] => uuids.map((u) => ({ uuid: u, slot: known.get(u)?.slot ?? '?', name: known.get(u)?.name ?? 'GPU' }));

  // 1. Is it there already? Running: say so (or, on a re-run of this request, report success).
  const existing = await ctx.engine.findContainer(name);
  if (existing?.state === 'running') {
    const ours = existing.labels[Label.requestId] === job.requestId;
    // A re-run that finds this request's container running: an earlier run may have died before
    // checking its mount, so check now.
    if (ours) await ensureWorkspace(ctx, name, runAs, await verifyProjectDir(ctx.config, user, job.project).catch(removeAnd(ctx, name)), job.project);
    await running(refs((existing.labels[Label.gpuUuids] ?? '').split(',').filter(Boolean), await slotsByUuid()), !ours);
    return;
  }

  // 2. The image: build when missing or asked to.
  if (needsBuild) {
    built = true;
    await progress('building');
    await buildProjectImage(ctx, job, { noCache: false, purpose: 'launch' });
  }

  // 3. GPUs, under the host's allocation lock so two launches never get the same one. The
  //    container is created inside the lock: its labels are the allocation record.
  await progress('allocating');
  let uuids: string[] = [];
  let verified: VerifiedProject | null = null;
  let left = false;
  await withLock(
    ctx.redis,
    RedisKey.allocationLock(ctx.hostId),
    async () => {
      // It held a place in the GPU queue while this host built its image: its owner may have left since.
      if (job.queued && !job.waited && ctx.gpuQueue && !(await ctx.gpuQueue.get(job.requestId))) {
        left = true;
        return;
      }
      const current = await ctx.engine.findContainer(name);
      if (current && current.labels[Label.requestId] === job.requestId) {
        uuids = (current.labels[Label.gpuUuids] ?? '').split(',').filter(Boolean);
        return; // a re-run: this request already made it; go on to start it
      }
      if (current) {
        // A stopped container from an earlier launch. Containers are disposable (the workspace is a
        // mount), so it is replaced rather than restarted with GPUs that may since have moved on.
        await ctx.engine.remove(name);
      }
      // Verified again right before the container is made: the real path checked now is what is bound.
      verified = await verifyProjectDir(ctx.config, user, job.project);
      const dir = verified.dir;
      // Who holds what is read from the engine now, under the lock: labels and device requests alike.
      const slots = await ctx.gpus.slots();
      const containers = await readContainers(ctx, slots);
      const mine = containers.filter((c) => c.user === user.user && c.holdsGpus && c.name !== name);
      const choice = allocateGpus({
        slots,
        holders: holdersOf(containers.filter((c) => c.name !== name)),
        request: { user: user.user, count: job.gpus },
        limits,
        userContainerCount: mine.length,
        host: ctx.hostId,
      });
      uuids = choice.slots.map((s) => s.uuid);
      const { pidsLimit, ...res } = containerLimits(ctx, limits);
      const now = nowIso();
      await ctx.engine.create({
        name,
        image,
        labels: {
          [Label.managed]: 'true',
          [Label.user]: user.user,
          [Label.project]: job.project,
          [Label.interface]: INTERFACE_ORCHESTRATION,
          [Label.createdAt]: now,
          [Label.workMount]: dir,
          [Label.workspace]: dir,
          [Label.gpuUuids]: uuids.join(','),
          ...(uuids.length === 1 ? { [Label.gpuUuid]: uuids[0]! } : {}),
          [Label.gpuSlots]: choice.slots.map((s) => s.slot).join(','),
          [Label.gpuAllocated]: now,
          [Label.gpus]: String(uuids.length),
          [Label.userId]: String(user.uid),
          [Label.groupId]: String(user.gid ?? user.uid),
          [Label.username]: user.user,
          [Label.containerName]: name,
          [Label.image]: image,
          [Label.requestId]: job.requestId,
        },
        env: [
          `NVIDIA_VISIBLE_DEVICES=${uuids.join(',')}`,
          `DS01_PROJECT=${job.project}`,
          `DS01_USER=${user.user}`,
          `HOME=/home/${user.user}`,
          `USER=${user.user}`,
          `LOGNAME=${user.user}`,
        ],
        binds: [`${dir}:/workspace`],
        runAs,
        ...res,
        pidsLimit,
        deviceUuids: ctx.gpus.mode === 'nvidia' ? uuids : [],
      });
      await ctx.engine.addHome(name, runAs);
      await ctx.refreshHost();
    },
    { busyMessage: 'The GPU allocator on this host is busy; your launch will be retried.' },
  );

  if (left) {
    ctx.log.info({ requestId: job.requestId }, 'its owner left the GPU queue while the image was built; nothing started');
    return;
  }
  crashPoint('launch:after-create');
  // 4. Start (a no-op when an earlier run already did), then make sure what got mounted is the
  //    verified folder.
  await progress('starting');
  if (!verified) verified = await verifyProjectDir(ctx.config, user, job.project).catch(removeAnd(ctx, name));
  await ctx.engine.start(name);
  await ensureWorkspace(ctx, name, runAs, verified, job.project);
  ctx.log.info({ container: name, gpus: uuids, requestId: job.requestId }, 'container running');
  await running(refs(uuids, await slotsByUuid()), false);
}

/** For a `.catch`: removes the half-made container, then fails with the same error. */
function removeAnd(ctx: WorkerContext, name: string) {
  return async (err: unknown): Promise<never> => {
    await ctx.engine.remove(name);
    await ctx.refreshHost();
    throw err;
  };
}

/**
 * The folder mounted at /workspace must be the one verified: a folder swapped for a link between
 * the check and the mount shows up here, and the container goes before anyone uses it.
 */
async function ensureWorkspace(ctx: WorkerContext, name: string, runAs: UserIds, verified: VerifiedProject, project: string): Promise<void> {
  if (await workspaceMatches(ctx, name, runAs, verified)) return;
  ctx.log.warn({ container: name, expected: verified.dir }, 'the mounted workspace is not the verified folder; container removed');
  await removeAnd(
    ctx,
    name,
  )(
    new Ds01Error(
      ErrorCode.BadInput,
      `Your project folder \`${project}\` changed while the container was being started, so I removed the container again. Make sure it is a real folder (not a link) and launch again.`,
    ),
  );
}

/**
 * Whether the container's /workspace is the verified folder (same device and inode). Read through
 * the container's own root in /proc when this worker can see its process, else by `stat` inside
 * the container, as the owner.
 */
async function workspaceMatches(ctx: WorkerContext, name: string, runAs: UserIds, verified: VerifiedProject): Promise<boolean> {
  const facts = await ctx.engine.facts(name);
  if (!facts) return false;
  const viaProc = facts.pid > 0 ? await lstat(`/proc/${facts.pid}/root/workspace`).catch(() => null) : null;
  if (viaProc) return viaProc.dev === verified.dev && viaProc.ino === verified.ino;
  const r = await ctx.engine.exec(name, ['stat', '-c', '%d:%i', '/workspace'], runAs).catch(() => null);
  if (!r || r.exitCode !== 0) {
    ctx.log.warn({ container: name }, 'could not check the mounted workspace (no /proc access, no stat in the image); the container runs unprivileged as its owner');
    return true;
  }
  return r.stdout.trim() === `${verified.dev}:${verified.ino}`;
}

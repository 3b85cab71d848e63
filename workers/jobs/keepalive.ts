import type { KeepaliveJob } from '../../src/contract/jobs.js';
import { RedisKey } from '../../src/contract/queues.js';
import { Label, containerName } from '../../src/ds01/naming.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import type { WorkerContext } from '../context.js';
import { eventBase, limitsFor, ownerEntry } from '../context.js';

/**
 * `/ds01 keepalive <project> [hours]` and the [Keep alive] button: the idle check leaves the
 * container alone until then (the longest run is never extended, as with DS01's `.keep-alive`).
 * Capped by DS01's keepalive_max_duration_h. Setting the same deadline twice has no second effect.
 */
export async function keepalive(ctx: WorkerContext, job: KeepaliveJob, requestedAt: number): Promise<void> {
  const name = containerName(job.project, job.owner.uid);
  const found = await ctx.engine.findContainer(name);
  if (!found || found.state !== 'running') {
    throw new Ds01Error(ErrorCode.NotFound, `You have no running container for \`${job.project}\` on ${ctx.hostId}, so there is nothing to keep alive.`);
  }
  // The name is the owner's by DS01's naming; a label naming someone else means someone else made it.
  if (found.labels[Label.user] !== job.owner.user) {
    throw new Ds01Error(ErrorCode.NotOwner, `\`${name}\` is not yours, so its keep-alive was not changed.`);
  }
  const limits = limitsFor(ctx, ownerEntry(ctx, job.owner));
  const maxH = limits.policies.keepaliveMaxDurationH;
  const hours = maxH === null ? job.hours : Math.min(job.hours, maxH);
  // The deadline counts from when the request was queued, so a re-run sets the same one.
  const until = new Date(requestedAt + hours * 3600_000 * ctx.timeScale).toISOString();
  await ctx.redis.set(RedisKey.keepalive(ctx.hostId, name), until, 'PX', Math.max(1000, Date.parse(until) - Date.now() + 60_000));
  await ctx.events.publish(
    {
      type: 'keepalive.set',
      ...eventBase(ctx, job),
      container: name,
      until,
      capped: hours < job.hours,
    },
    `${job.requestId}.keepalive`,
  );
}

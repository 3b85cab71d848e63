import { performance } from 'node:perf_hooks';
import { UnrecoverableError, type Job } from 'bullmq';
import { HostJob, type Person, type ReplyTarget } from '../src/contract/jobs.js';
import { Ds01Error, ErrorCode, userMessageOf } from '../src/shared/errors.js';
import type { WorkerContext } from './context.js';
import { verify } from '../src/contract/signing.js';
import { recordAudit } from '../src/audit/audit-log.js';
import { containerName, imageName } from '../src/ds01/naming.js';
import { eventBase } from './context.js';
import { BuildFailure, build } from './jobs/build.js';
import { launch } from './jobs/launch.js';
import { retire } from './jobs/retire.js';
import { keepalive } from './jobs/keepalive.js';
import { lifecycleCheck } from './lifecycle/check.js';

/**
 * One entry point for every job on this host's queue: validate against the contract, run it, and
 * turn failures into one clear `job.failed` event. User errors fail at once (UnrecoverableError);
 * engine hiccups are thrown as-is so BullMQ retries them with backoff, and the user hears about
 * them only when the last attempt fails.
 */
export function createProcessor(ctx: WorkerContext) {
  return async (job: Job): Promise<unknown> => {
    // How long the job waited on the queue (job.timestamp: when it was added). The metric is for
    // Prometheus; the log line is what `npm run bench` reads for its queue-pickup figure.
    const waitedMs = Math.round((performance.timeOrigin + performance.now() - job.timestamp) * 10) / 10;
    ctx.metrics.queueWaitSeconds.observe(Math.max(0, waitedMs) / 1000);
    ctx.log[job.name === 'lifecycle' ? 'debug' : 'info']({ jobId: job.id, job: job.name, waitedMs }, 'job started');
    const payload = verify(ctx.jobSecret, job.data);
    if (!payload) {
      ctx.log.error({ jobId: job.id, name: job.name }, 'job is unsigned or its signature does not match; dropped (someone wrote to Redis directly?)');
      ctx.metrics.jobs.inc({ kind: 'forged', outcome: 'dropped' });
      throw new UnrecoverableError('job signature missing or wrong');
    }
    const parsed = HostJob.safeParse(payload);
    if (!parsed.success) {
      ctx.log.error({ jobId: job.id, issues: parsed.error.issues }, 'job does not match the contract; dropped');
      throw new UnrecoverableError('job payload does not match the contract');
    }
    const data = parsed.data;
    const jobCtx = { ...ctx, log: ctx.log.child({ jobId: job.id, kind: data.kind, attempt: job.attemptsMade + 1 }) };
    const timer = ctx.metrics.jobSeconds.startTimer({ kind: data.kind });
    try {
      const result = await runJob(jobCtx, data, job.timestamp);
      ctx.metrics.jobs.inc({ kind: data.kind, outcome: 'done' });
      await audit(ctx, data, 'done', null);
      return result;
    } catch (err) {
      const userError = err instanceof Ds01Error && !err.retryable;
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      ctx.metrics.jobs.inc({ kind: data.kind, outcome: userError ? 'refused' : 'failed' });
      if (userError || lastAttempt) await audit(ctx, data, userError ? 'refused' : 'failed', err instanceof Ds01Error ? err.code : ErrorCode.Internal);
      if (data.kind !== 'lifecycle' && (userError || lastAttempt)) {
        jobCtx.log.warn({ err, code: err instanceof Ds01Error ? err.code : ErrorCode.Internal }, 'job failed');
        await reportFailure(ctx, data, err);
      } else {
        jobCtx.log.warn({ err }, 'job attempt failed; will retry');
      }
      if (userError) throw new UnrecoverableError((err as Ds01Error).userMessage);
      throw err;
    } finally {
      timer();
    }
  };
}

/** One audit entry per finished job (the lifecycle pass records its own retirements). */
async function audit(ctx: WorkerContext, data: HostJob, result: 'done' | 'refused' | 'failed', code: string | null): Promise<void> {
  if (data.kind === 'lifecycle') return;
  await recordAudit(ctx.redis, ctx.log, {
    who: data.requestedBy,
    owner: data.owner.user,
    what: data.kind === 'retire' ? `retire:${data.reason}` : data.kind,
    target: data.kind === 'build' ? imageName(data.owner.uid, data.project) : containerName(data.project, data.owner.uid),
    host: ctx.hostId,
    result,
    code,
  });
}

function runJob(ctx: WorkerContext, data: HostJob, queuedAt: number): Promise<unknown> {
  switch (data.kind) {
    case 'launch':
      return launch(ctx, data);
    case 'build':
      return build(ctx, data);
    case 'retire':
      return retire(ctx, data);
    case 'keepalive':
      return keepalive(ctx, data, queuedAt);
    case 'lifecycle':
      return lifecycleCheck(ctx, data.now ? Date.parse(data.now) : Date.now());
  }
}

async function reportFailure(
  ctx: WorkerContext,
  data: { kind: 'launch' | 'build' | 'retire' | 'keepalive'; requestId: string; owner: Person; project: string; reply: ReplyTarget },
  err: unknown,
): Promise<void> {
  await ctx.events.publish(
    {
      type: 'job.failed',
      ...eventBase(ctx, data),
      kind: data.kind,
      code: err instanceof Ds01Error ? err.code : ErrorCode.Internal,
      message: userMessageOf(err),
      ...(err instanceof BuildFailure ? { build: { step: err.step, lastLines: err.lastLines.slice(-15), hint: err.hint } } : {}),
    },
    `${data.requestId}.failed`,
  );
}

import type { BuildJob, LaunchJob } from '../../src/contract/jobs.js';
import { RedisKey } from '../../src/contract/queues.js';
import type { UserEntry } from '../../src/config/ds01-config.js';
import { containerName, imageName } from '../../src/ds01/naming.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import type { WorkerContext } from '../context.js';
import { eventBase, ownerEntry } from '../context.js';
import { BuildLog, hintFor } from '../images/build-log.js';
import { applyImageEdit, readProjectFiles } from '../images/project-files.js';
import { editNote, prepareUndo, type EditUndo } from '../images/edit-undo.js';
import { foreignImage, foreignImageSentence, imageReferences } from '../images/base-images.js';
import { userIds } from '../user-fs/as-user.js';
import { packBuildContext } from '../user-fs/build-context.js';
import { verifyProjectDir, type VerifiedProject } from '../user-fs/project-path.js';
import { readJsonLines } from '../images/json-lines.js';
import { withLock } from '../host/lock.js';

/** Slack allows about one update a second per message; progress goes out at most this often. */
const PROGRESS_EVERY_MS = 2000;

export class BuildFailure extends Ds01Error {
  constructor(
    readonly step: string,
    readonly lastLines: string[],
    readonly hint: string,
    message: string,
  ) {
    super(ErrorCode.BuildFailed, message);
  }
}

/** `err` with what became of the user's files appended to the sentence they read. */
function withEditNote(err: unknown, files: string[], restored: boolean): unknown {
  const note = editNote(files, restored);
  if (err instanceof BuildFailure) return new BuildFailure(err.step, err.lastLines, err.hint, err.userMessage + note);
  if (err instanceof Ds01Error) return new Ds01Error(err.code, err.userMessage + note, { retryable: err.retryable, cause: err, detail: err.message });
  return err;
}

/**
 * The project's folder, checked from the workspace root down (real folders the user owns; see
 * user-fs/project-path.ts), with a Dockerfile that is a regular file, read as the user.
 */
export async function requireProject(ctx: WorkerContext, job: LaunchJob | BuildJob): Promise<VerifiedProject> {
  const user = ownerEntry(ctx, job.owner);
  const verified = await verifyProjectDir(ctx.config, user, job.project);
  const files = await readProjectFiles(userIds(user), verified.dir, ['Dockerfile']);
  if (!files.get('Dockerfile')) {
    throw new Ds01Error(
      ErrorCode.NoDockerfile,
      `Project \`${job.project}\` has no Dockerfile, so there is no image to build. Add one to ${verified.dir} (\`project init ${job.project}\` writes a starter), then launch again.`,
    );
  }
  return verified;
}

/**
 * Builds `ds01-<uid>/<project>:latest` from the project's Dockerfile, streaming progress as
 * events. One build per project per host at a time (Redis lock); a re-run after a crash simply
 * builds again, which Docker's layer cache makes cheap, and tags the same name: no second effect.
 */
export async function buildProjectImage(
  ctx: WorkerContext,
  job: LaunchJob | BuildJob,
  opts: { noCache: boolean; purpose: 'launch' | 'image-update'; python?: string[]; system?: string[] },
): Promise<{ image: string; added: { python: string[]; system: string[] }; seconds: number }> {
  const user = ownerEntry(ctx, job.owner);
  const ids = userIds(user);
  const image = imageName(job.owner.uid, job.project);
  const lockKey = RedisKey.projectLock(ctx.hostId, job.owner.uid, job.project);
  return withLock(
    ctx.redis,
    lockKey,
    async () => {
      const started = Date.now();
      let added = { python: [] as string[], system: [] as string[] };
      let undo: EditUndo | null = null;
      // Checked again under the lock, right before the files are touched.
      const { dir } = await requireProject(ctx, job);
      if ((opts.python?.length ?? 0) + (opts.system?.length ?? 0) > 0) {
        const edit = await applyImageEdit(ids, dir, { python: opts.python ?? [], system: opts.system ?? [] });
        added = edit.added;
        undo = prepareUndo(ids, dir, edit.edits);
      }
      try {
        await runBuild(ctx, job, image, user, opts);
      } catch (err) {
        // A failed build must not leave the new lines behind: every later build would fail on them.
        if (!undo) throw err;
        const restored = await undo.run().catch((e: unknown) => {
          ctx.log.warn({ err: (e as Error).message }, 'could not put the project files back after a failed build');
          return false;
        });
        throw withEditNote(err, undo.files, restored);
      }
      await ctx.refreshHost();
      return { image, added, seconds: (Date.now() - started) / 1000 };
    },
    { leaseMs: 30_000, waitMs: ctx.buildTimeoutMs, busyMessage: `Another build of \`${job.project}\` is still running; try again when it has finished.` },
  );
}

/**
 * Refuses a Dockerfile that builds from another user's image: by name (ARGs resolved), and by
 * what the engine knows of each reference (an image ID or another tag of that image).
 */
async function checkBaseImages(ctx: WorkerContext, dockerfile: string, buildArgs: Record<string, string>, ownerUid: number): Promise<void> {
  for (const ref of imageReferences(dockerfile, buildArgs)) {
    if (foreignImage([ref], ownerUid)) throw new Ds01Error(ErrorCode.BadInput, foreignImageSentence(ref, ownerUid));
    // By id or another name: refused when every name the engine has for it is another user's image.
    // (An image that is also a public one, byte for byte, has that public name too, and is fine.)
    const tags = await ctx.engine.imageTags(ref);
    if (tags && tags.length > 0 && tags.every((t) => foreignImage([t], ownerUid))) throw new Ds01Error(ErrorCode.BadInput, foreignImageSentence(ref, ownerUid));
  }
}

/** Runs `docker build` for the project, streaming progress; throws BuildFailure when a step fails. */
async function runBuild(
  ctx: WorkerContext,
  job: LaunchJob | BuildJob,
  image: string,
  user: UserEntry,
  opts: { noCache: boolean; purpose: 'launch' | 'image-update' },
): Promise<void> {
  const log = new BuildLog();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ctx.buildTimeoutMs);
  let lastSent = 0;
  let lastStep = -1;
  const buildArgs = {
    DS01_USER_ID: String(user.uid),
    DS01_GROUP_ID: String(user.gid ?? user.uid),
    DS01_USERNAME: user.user,
  };
  try {
    // Verified once more right before the context is made; the context is packed as the user, and
    // the Dockerfile checked is the one inside that very context (it goes first in the archive).
    const { dir } = await requireProject(ctx, job);
    const context = await packBuildContext(userIds(user), dir, ctx.buildTimeoutMs, (dockerfile) => checkBaseImages(ctx, dockerfile, buildArgs, user.uid));
    const stream = await ctx.engine.buildStream(context, {
      tag: image,
      noCache: opts.noCache,
      signal: controller.signal,
      buildArgs,
    });
    await readJsonLines(stream, async (obj) => {
      log.push(obj);
      const step = log.currentStep;
      const now = Date.now();
      if (step && (step.number !== lastStep || now - lastSent >= PROGRESS_EVERY_MS) && now - lastSent >= PROGRESS_EVERY_MS / 4) {
        lastSent = now;
        lastStep = step.number;
        await ctx.events.publish({
          type: 'build.progress',
          ...eventBase(ctx, job),
          purpose: opts.purpose,
          step: step.number,
          totalSteps: step.total,
          line: step.instruction.slice(0, 300),
        });
      }
    });
  } catch (err) {
    if (controller.signal.aborted) {
      throw new Ds01Error(
        ErrorCode.BuildTimeout,
        `Building the image for \`${job.project}\` took longer than ${Math.round(ctx.buildTimeoutMs / 60000)} minutes and was stopped. Large installs are better split up; try again, or ask the admins if it keeps happening.`,
      );
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
  log.finish();
  if (log.failed) {
    const failed = log.failedStep;
    const failing = failed ? `step ${failed.number}/${failed.total} (${failed.instruction})` : 'the build';
    throw new BuildFailure(
      failing,
      log.lines,
      log.hint() ?? hintFor(log.lines.join('\n')) ?? 'Read the last lines of the log above; the error is usually in the final few.',
      `The image for \`${job.project}\` did not build: ${failing} failed. The image was not changed.`,
    );
  }
}

/**
 * The `build` job (an image update from the package modal): edit, build, then tell the user, and
 * whether a running container still uses the previous image.
 */
export async function build(ctx: WorkerContext, job: BuildJob): Promise<{ image: string; seconds: number }> {
  const result = await buildProjectImage(ctx, job, job);
  const running = await ctx.engine.findContainer(containerName(job.project, job.owner.uid));
  await ctx.events.publish(
    {
      type: 'build.done',
      ...eventBase(ctx, job),
      purpose: job.purpose,
      image: result.image,
      added: result.added,
      runningContainer: running?.state === 'running' ? running.name : null,
      seconds: result.seconds,
    },
    `${job.requestId}.build.done`,
  );
  return { image: result.image, seconds: result.seconds };
}

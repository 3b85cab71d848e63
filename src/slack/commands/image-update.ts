import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { Ds01Config, UserEntry } from '../../config/ds01-config.js';
import type { BuildJob } from '../../contract/jobs.js';
import { ProjectName } from '../../ds01/naming.js';
import { newRequestId } from '../../queue/jobs-client.js';
import { Ds01Error, ErrorCode, userMessageOf } from '../../shared/errors.js';
import { buildNotStartedMessage, buildQueuedMessage, imageUpdateNoticeView } from '../blocks/build.js';
import { packageModalView } from '../blocks/package-modal.js';
import type { BotDeps, CommandContext } from '../deps.js';
import { endBuild } from '../build-claim.js';
import { notRegisteredText } from '../not-registered.js';

/**
 * `/ds01 image-update <project>` and [Add to image]: the package modal, and starting the build
 * once a submission is valid. Slack gives a trigger_id 3 s to live, so the modal opens before
 * anything slow; the host and the packages already added are filled in afterwards.
 */

/** What the modal carries between opening and submission (its private_metadata). */
export const ModalMetadata = z.object({
  project: ProjectName,
  /** Slack user the form was opened for: only they may submit it. */
  owner: z.string().min(1).max(30),
  host: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/)
    .optional(),
});
export type ModalMetadata = z.infer<typeof ModalMetadata>;

export function readModalMetadata(raw: string | undefined): ModalMetadata | null {
  if (!raw || raw.length > 3000) return null;
  try {
    const parsed = ModalMetadata.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function notRegisteredForImages(config: Ds01Config, slackUserId: string): string {
  return notRegisteredText(config, slackUserId, 'change any image');
}

export interface OpenModalArgs {
  deps: BotDeps;
  client: WebClient;
  triggerId: string;
  slackUserId: string;
  user: UserEntry;
  project: string;
  prefill?: { python?: string[]; system?: string[] };
}

/** Opens the package modal at once, then fills in the host and the packages already added. */
export async function openPackageModal(a: OpenModalArgs): Promise<void> {
  const meta: ModalMetadata = { project: a.project, owner: a.slackUserId };
  const prefill = a.prefill ? { ...(a.prefill.python ? { python: a.prefill.python } : {}), ...(a.prefill.system ? { system: a.prefill.system } : {}) } : undefined;
  const view = (host: string | undefined, alreadyAdded: { python: string[]; system: string[] } | null) =>
    packageModalView({
      project: a.project,
      ...(host ? { host } : {}),
      alreadyAdded,
      ...(prefill ? { prefill } : {}),
      privateMetadata: JSON.stringify(host ? { ...meta, host } : meta),
    });

  let opened;
  try {
    opened = await a.client.views.open({ trigger_id: a.triggerId, view: view(undefined, null) });
  } catch (err) {
    a.deps.log.warn({ err: (err as Error).message }, 'views.open failed for the package modal');
    throw new Ds01Error(
      ErrorCode.Internal,
      `Slack did not let me open the form for \`${a.project}\` (it allows only a few seconds for that), so nothing was changed. Please run \`/ds01 image-update ${a.project}\` again.`,
      { cause: err },
    );
  }
  const viewId = opened.view?.id;
  if (!viewId) return;

  // The slower part, with the form already on screen.
  let next;
  try {
    const host = await a.deps.hosts.hostFor(a.user.user, a.user.uid, a.project);
    const image = host.images.find((i) => i.uid === a.user.uid && i.project === a.project);
    next = view(host.hostId, image?.packages ?? { python: [], system: [] });
  } catch (err) {
    if (!(err instanceof Ds01Error)) a.deps.log.error({ err }, 'looking up the project for the package modal failed');
    next = imageUpdateNoticeView(userMessageOf(err));
  }
  const hash = opened.view?.hash;
  await a.client.views
    .update({ view_id: viewId, ...(hash ? { hash } : {}), view: next })
    .catch((err: Error) => a.deps.log.warn({ err: err.message }, 'could not fill in the package modal'));
}

/** `/ds01 image-update <project>`: the router has acked; open the modal straight away. */
export async function imageUpdateCommand(ctx: CommandContext, args: { project: string }): Promise<void> {
  await openPackageModal({ deps: ctx.deps, client: ctx.client, triggerId: ctx.triggerId, slackUserId: ctx.slackUserId, user: ctx.user, project: args.project });
}

export interface StartBuildArgs {
  deps: BotDeps;
  client: WebClient;
  slackUserId: string;
  user: UserEntry;
  meta: ModalMetadata;
  /** Validated and normalised by validatePackageRequest. */
  python: string[];
  system: string[];
  noCache: boolean;
  /** The request id its build claim was taken with (build-claim.ts); released when nothing is queued. */
  requestId?: string;
}

/**
 * After a valid submission (and its ack): open the progress message in the user's DM and queue
 * the build on the project's host. The worker edits the Dockerfile, builds, and reports back.
 */
export async function startImageBuild(a: StartBuildArgs): Promise<void> {
  const { deps, user, meta } = a;
  let hostId: string;
  try {
    // The host the form showed, while it is still online; else wherever the project lives now.
    const online = meta.host ? (await deps.hosts.online()).some((h) => h.hostId === meta.host) : false;
    hostId = online && meta.host ? meta.host : (await deps.hosts.hostFor(user.user, user.uid, meta.project)).hostId;
  } catch (err) {
    if (!(err instanceof Ds01Error)) deps.log.error({ err }, 'choosing the host for an image update failed');
    if (a.requestId) await endBuild(deps.redis, a.requestId).catch(() => undefined);
    await a.client.chat.postMessage({ channel: a.slackUserId, ...buildNotStartedMessage(meta.project, userMessageOf(err)) });
    return;
  }

  let reply: { channel: string; ts: string } | null = null;
  try {
    const msg = await a.client.chat.postMessage({ channel: a.slackUserId, ...buildQueuedMessage(meta.project, hostId, a) });
    if (msg.channel && msg.ts) reply = { channel: msg.channel, ts: msg.ts };
  } catch (err) {
    // The build still runs; its final event posts a fresh message instead of updating this one.
    deps.log.warn({ err: (err as Error).message }, 'could not open the image-update progress message');
  }

  const requestId = a.requestId ?? newRequestId();
  const job: BuildJob = {
    kind: 'build',
    requestId,
    owner: { slackUserId: a.slackUserId, user: user.user, uid: user.uid },
    requestedBy: user.user,
    project: meta.project,
    reply,
    noCache: a.noCache,
    python: a.python,
    system: a.system,
    purpose: 'image-update',
  };
  try {
    await deps.jobs.add(hostId, job, `build-${user.uid}-${meta.project}-${requestId}`);
  } catch (err) {
    deps.log.error({ err }, 'could not queue the image-update build');
    await endBuild(deps.redis, requestId).catch(() => undefined);
    const why = 'I could not hand the build to the host (the job queue did not answer), so your Dockerfile was not changed. Please try again in a minute.';
    const message = buildNotStartedMessage(meta.project, why);
    if (reply) await a.client.chat.update({ ...reply, ...message }).catch(() => undefined);
    else await a.client.chat.postMessage({ channel: a.slackUserId, ...message }).catch(() => undefined);
  }
}

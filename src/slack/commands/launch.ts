import { personOf } from '../../config/ds01-config.js';
import { containerName } from '../../ds01/naming.js';
import { placeLaunch } from '../../hosts/placement.js';
import { effectiveLimits } from '../../limits/resource-limits.js';
import { fairPosition, placeText } from '../../queue/gpu-queue.js';
import { newRequestId } from '../../queue/jobs-client.js';
import { Ds01Error, ErrorCode } from '../../shared/errors.js';
import { launchQueuedMessage } from '../blocks/launch.js';
import { launchWaitingMessage } from '../blocks/queue.js';
import type { CommandContext } from '../deps.js';
import { RedisKey } from '../../contract/queues.js';

/** How long a launch stays claimed (a double submit finds it claimed): longer while it waits for a GPU. */
const INFLIGHT_S = 900;
const INFLIGHT_WAITING_S = 7 * 24 * 3600;

/**
 * `/ds01 launch <project>`: place it (src/hosts/placement.ts), claim the launch (a double submit finds
 * it claimed), open the progress message in the user's DM, and either queue the job on the chosen
 * host or, when no GPU the user may have is free, put it in the GPU queue and say where it stands.
 * No Docker here: the worker does it, and checks again under its allocation lock.
 */
export async function launchCommand(ctx: CommandContext, args: { project: string; gpus: number; rebuild: boolean }): Promise<void> {
  const { deps, user } = ctx;
  const hosts = await deps.hosts.requireOnline();
  const limits = effectiveLimits(deps.limits, {
    user: user.user,
    ...(user.group ? { group: user.group } : {}),
    ...(deps.userOverrides ? { overrides: deps.userOverrides } : {}),
  });
  const placement = placeLaunch(hosts, { user: user.user, uid: user.uid, project: args.project, gpus: args.gpus, limits, sharedWorkspaces: deps.config.workspaces_shared });
  if (placement.kind === 'refuse') throw new Ds01Error(ErrorCode.BadInput, placement.message);

  const requestId = newRequestId();
  const waits = placement.kind === 'queue';
  const claimed = await deps.redis.set(RedisKey.launchInflight(user.uid, args.project), requestId, 'EX', waits ? INFLIGHT_WAITING_S : INFLIGHT_S, 'NX');
  if (claimed !== 'OK') {
    await ctx.respond({
      response_type: 'ephemeral',
      text: `A launch of \`${args.project}\` is already under way (or waiting for a GPU); I'm posting its progress in our DM. Nothing new was queued.`,
    });
    return;
  }

  const host = placement.kind === 'queue' ? placement.via : placement.host;
  // No room now: its turn in the GPU queue is fixed here, at arrival; the host checks the project,
  // builds the image, and then waits with this turn (workers/jobs/launch.ts).
  let queued: { seq: number; enqueuedAt: string } | undefined;
  let waiting: ReturnType<typeof launchWaitingMessage> | null = null;
  let reply: { channel: string; ts: string } | null = null;
  if (placement.kind === 'queue') {
    // Its turn, and so its place, before anything is posted: the DM opens with where it stands (one
    // Slack call, not a placeholder and an update). The place is counted from the bot's in-memory
    // queue (kept current by pub/sub), not from a read of the whole queue.
    const turn = await deps.gpuQueue.nextTurn();
    const owner = personOf(user);
    const view = deps.hosts.view();
    const position = fairPosition(view ? view.queue : await deps.gpuQueue.list(), { requestId, seq: turn.seq, owner });
    waiting = launchWaitingMessage({ project: args.project, requestId, position, gpus: args.gpus, onHost: placement.onHost, reason: placement.reason });
    try {
      const msg = await ctx.client.chat.postMessage({ channel: ctx.slackUserId, ...waiting });
      if (msg.channel && msg.ts) reply = { channel: msg.channel, ts: msg.ts };
    } catch (err) {
      deps.log.warn({ err: (err as Error).message }, 'could not open the launch progress message');
    }
    // Its place, held (pending) while the host checks the project: no host takes it before that.
    const entry = await deps.gpuQueue
      .add(
        {
          requestId,
          owner,
          requestedBy: user.user,
          project: args.project,
          gpus: args.gpus,
          rebuild: args.rebuild,
          reply,
          host: placement.onHost,
          pending: true,
        },
        turn,
      )
      .catch(async (err: unknown) => {
        await deps.redis.del(RedisKey.launchInflight(user.uid, args.project));
        if (reply) {
          const text = `Launch of \`${args.project}\` did not go through: it could not join the GPU queue. Nothing was started; please try again.`;
          await ctx.client.chat.update({ channel: reply.channel, ts: reply.ts, text, blocks: [] }).catch(() => undefined);
        }
        throw err;
      });
    queued = { seq: entry!.seq, enqueuedAt: entry!.enqueuedAt };
    deps.log.info(
      { requestId, user: user.user, project: args.project, seq: queued.seq, reason: placement.reason },
      `launch waits: ${placeText(position, args.gpus, placement.onHost)}`,
    );
  }
  const running = host.containers.find((c) => c.name === containerName(args.project, user.uid) && c.state === 'running');
  await ctx.respond(
    waiting
      ? { response_type: 'ephemeral', ...waiting }
      : {
          response_type: 'ephemeral',
          text: running
            ? `\`${args.project}\` looks like it is already running on ${host.hostId}; checking and I'll confirm in our DM.`
            : `Launch of \`${args.project}\` queued on ${host.hostId}. I'll post progress in our DM.`,
        },
  );
  if (!waiting) {
    try {
      const msg = await ctx.client.chat.postMessage({ channel: ctx.slackUserId, ...launchQueuedMessage(args.project, host.hostId) });
      if (msg.channel && msg.ts) reply = { channel: msg.channel, ts: msg.ts };
    } catch (err) {
      // Slack hiccup: the job still runs; its events will post a fresh message instead of updating.
      deps.log.warn({ err: (err as Error).message }, 'could not open the launch progress message');
    }
  }
  try {
    await deps.jobs.add(
      host.hostId,
      {
        kind: 'launch',
        requestId,
        owner: personOf(user),
        requestedBy: user.user,
        project: args.project,
        reply,
        gpus: args.gpus,
        rebuild: args.rebuild,
        ...(queued ? { queued } : {}),
      },
      `launch-${user.uid}-${args.project}-${requestId}`,
    );
  } catch (err) {
    await deps.redis.del(RedisKey.launchInflight(user.uid, args.project));
    await deps.gpuQueue.take(requestId);
    throw err;
  }
}

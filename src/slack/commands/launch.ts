import { personOf } from '../../config/ds01-config.js';
import { containerName } from '../../ds01/naming.js';
import { newRequestId } from '../../queue/jobs-client.js';
import { launchQueuedMessage } from '../blocks/launch.js';
import type { CommandContext } from '../deps.js';
import { RedisKey } from '../../contract/queues.js';

/**
 * `/ds01 launch <project>`: pick the host, claim the launch (a double submit finds it claimed),
 * open the progress message in the user's DM and queue the job. No Docker here: the worker does it.
 */
export async function launchCommand(ctx: CommandContext, args: { project: string; gpus: number; rebuild: boolean }): Promise<void> {
  const { deps, user } = ctx;
  const host = await deps.hosts.hostFor(user.user, user.uid, args.project);
  const running = host.containers.find((c) => c.name === containerName(args.project, user.uid) && c.state === 'running');
  const requestId = newRequestId();
  const claimed = await deps.redis.set(RedisKey.launchInflight(user.uid, args.project), requestId, 'EX', 900, 'NX');
  if (claimed !== 'OK') {
    await ctx.respond({
      response_type: 'ephemeral',
      text: `A launch of \`${args.project}\` is already under way; I'm posting its progress in our DM. Nothing new was queued.`,
    });
    return;
  }
  await ctx.respond({
    response_type: 'ephemeral',
    text: running
      ? `\`${args.project}\` looks like it is already running on ${host.hostId}; checking and I'll confirm in our DM.`
      : `Launch of \`${args.project}\` queued on ${host.hostId}. I'll post progress in our DM.`,
  });
  let reply: { channel: string; ts: string } | null = null;
  try {
    const msg = await ctx.client.chat.postMessage({ channel: ctx.slackUserId, ...launchQueuedMessage(args.project, host.hostId) });
    if (msg.channel && msg.ts) reply = { channel: msg.channel, ts: msg.ts };
  } catch (err) {
    // Slack hiccup: the job still runs; its events will post a fresh message instead of updating.
    deps.log.warn({ err: (err as Error).message }, 'could not open the launch progress message');
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
      },
      `launch-${user.uid}-${args.project}-${requestId}`,
    );
  } catch (err) {
    await deps.redis.del(RedisKey.launchInflight(user.uid, args.project));
    throw err;
  }
}

import { Queue, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_QUEUE, hostQueueName } from '../../src/contract/queues.js';
import type { RecordedCall } from '../../src/local/slack-simulator.js';
import { Harness, messageText } from '../support/harness.js';
import { ALICE, BOB, docker, redis, World, type TestUser } from '../support/services.js';

/**
 * Exactly once: a click, a submit or a command delivered twice (the identical payload again, a
 * second click a moment later, a click on a stale message, two bot replicas) has one effect.
 * Counted at the wire: jobs on the host's queue, lines in the notify channel, DMs, containers.
 */
describe('exactly once', () => {
  const world = new World([ALICE, BOB]);
  const h = new Harness(world);
  const conn = redis();
  const hostQueue = new Queue(hostQueueName('gpu1'), { connection: conn });
  const eventsQueue = new Queue(EVENTS_QUEUE, { connection: conn });

  beforeAll(async () => {
    world.addProject(ALICE, 'demo');
    world.addProject(BOB, 'keeper');
    await h.start([{ hostId: 'gpu1', gpus: 'fake:4', env: { DS01_CHECK_INTERVAL_S: '86400' } }]);
  });
  afterAll(async () => {
    await hostQueue.close();
    await eventsQueue.close();
    await conn.quit();
    await h.stop();
  });

  const dmTo = (user: TestUser) => (c: RecordedCall) =>
    (c.method === 'chat.postMessage' || c.method === 'chat.update') && String(c.args.channel).slice(1) === user.slack_id.slice(1);
  const since = (from: number) => h.slack.calls.slice(from);
  const channelLines = (from: number, project: string) =>
    since(from).filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0DS01NOTE' && String(c.args.text).includes(`\`${project}\``));
  const retiredDms = (from: number, user: TestUser, project: string) =>
    since(from).filter((c) => dmTo(user)(c) && messageText(c.args).includes(`\`${project}\` was retired`));

  /** Jobs of `kind` for `project` that reached the host's queue (any state). */
  async function jobsFor(kind: string, project: string): Promise<Job[]> {
    const jobs = await hostQueue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'paused']);
    return jobs.filter((j) => j.name === kind && (j.data as { project?: string }).project === project);
  }

  /**
   * A positive marker that everything already handed over has finished: no job but the
   * lifecycle scheduler's is waiting or running on the host, and the outbox has delivered every
   * event. A duplicate would have been posted by then.
   */
  async function settled(): Promise<void> {
    for (let quiet = 0; quiet < 2; ) {
      const pending = (await hostQueue.getJobs(['waiting', 'active', 'prioritized', 'delayed'])).filter((j) => j.name !== 'lifecycle');
      const events = await eventsQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      const busy = pending.length + Object.values(events).reduce((a, b) => a + b, 0);
      quiet = busy === 0 ? quiet + 1 : 0;
      // Polling a condition (as Proc.waitForLine does), not waiting a time to prove an absence.
      await new Promise((r) => setTimeout(r, 100));
    }
    // And the bot has answered something asked after all of it.
    const marker = await h.slash(ALICE, 'gpus');
    await h.responseTo(marker.responseUrl);
  }

  async function launch(user: TestUser, project: string): Promise<void> {
    const from = h.slack.calls.length;
    const r = await h.slash(user, `launch ${project}`);
    await h.responseTo(r.responseUrl);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(user)(c) && /is running/.test(messageText(c.args)) && messageText(c.args).includes(`\`${project}\``), 90_000);
  }

  const exists = async (name: string) => (await docker().listContainers({ all: true, filters: { name: [`^/${name.replace(/\./g, '\\.')}$`] } })).length > 0;

  let clicks = 0;
  /** A click on the App Home's quick action, as Slack sends it (each call is a distinct click). */
  function homeClick(user: TestUser, actionId: string, value: string): Record<string, unknown> {
    clicks += 1;
    return {
      type: 'block_actions',
      api_app_id: 'A0DS01BOT',
      team: { id: 'T0DS01', domain: 'ds01' },
      user: { id: user.slack_id, username: user.user, team_id: 'T0DS01' },
      trigger_id: `${Date.now()}.${clicks}.home`,
      container: { type: 'view', view_id: 'V0HOME' },
      view: { id: 'V0HOME', type: 'home', blocks: [] },
      actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: `${Date.now() / 1000}${clicks}` }],
    };
  }

  it('alice clicks [Retire] on her App Home `demo` twice: retired once, announced once', async () => {
    await launch(ALICE, 'demo');
    const from = h.slack.calls.length;
    await Promise.all([h.interact(homeClick(ALICE, 'home_retire', 'demo')), h.interact(homeClick(ALICE, 'home_retire', 'demo'))]);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(ALICE)(c) && /`demo` was retired/.test(messageText(c.args)), 60_000);
    await settled();
    expect(await exists('demo._.1001')).toBe(false);
    expect(channelLines(from, 'demo')).toHaveLength(1);
    expect(retiredDms(from, ALICE, 'demo')).toHaveLength(1);
    expect(await jobsFor('retire', 'demo')).toHaveLength(1);
    // The second click is told, briefly, that it is already happening.
    expect(since(from).filter((c) => dmTo(ALICE)(c) && /already/.test(messageText(c.args)))).toHaveLength(1);
  });
});

import { Queue, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_QUEUE, RedisKey, hostQueueName } from '../../src/contract/queues.js';
import { sign } from '../../src/contract/signing.js';
import { postToApp, slashCommandBody } from '../../src/local/slack-signing.js';
import { TEST_JOB_SECRET } from '../support/processes.js';
import { Harness, messageText, dmTo, execIn } from '../support/harness.js';
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
    for (const p of ['demo', 'twice', 'replica', 'bycmd', 'pkgs', 'live', 'img', 'lnch', 'direct']) world.addProject(ALICE, p);
    world.addProject(BOB, 'keeper');
    await h.start([{ hostId: 'gpu1', gpus: 'fake:4', env: { DS01_CHECK_INTERVAL_S: '86400' } }]);
  });
  afterAll(async () => {
    if (process.env.DUMP) console.log(h.workers.get('gpu1')?.output.slice(-40).join('\n'));
    await hostQueue.close();
    await eventsQueue.close();
    await conn.quit();
    await h.stop();
  });

  const since = (from: number) => h.slack.calls.slice(from);
  const channelLines = (from: number, project: string) =>
    since(from).filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0DS01NOTE' && String(c.args.text).includes(`\`${project}\``));
  const retiredDms = (from: number, user: TestUser, project: string) => since(from).filter((c) => dmTo(user)(c) && messageText(c.args).includes(`\`${project}\` was retired`));

  /** Jobs of `kind` for `project` that reached the host's queue (any state). */
  async function jobsFor(kind: string, project: string): Promise<Job[]> {
    const jobs = await hostQueue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed']);
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
    // (`gpus` and `status` are answered in the ack itself; a help question is answered after it.)
    const marker = await h.slash(ALICE, 'help where are my files');
    await h.responseTo(marker.responseUrl);
  }

  async function launch(user: TestUser, project: string): Promise<void> {
    const from = h.slack.calls.length;
    const r = await h.slash(user, `launch ${project}`);
    await h.responseTo(r.responseUrl);
    await h.slack.waitFor(
      (c) => h.slack.calls.indexOf(c) >= from && dmTo(user)(c) && /is running/.test(messageText(c.args)) && messageText(c.args).includes(`\`${project}\``),
      90_000,
    );
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

  it("a click on a button the bot has no handler for (an older version's) is acknowledged and does nothing", async () => {
    const from = h.slack.calls.length;
    const res = await h.interact(homeClick(ALICE, 'button_from_an_old_version', 'demo'));
    expect(res.status).toBe(200);
    await h.bot.waitForLine(/a click on a button this bot has no handler for/);
    expect(h.slack.calls.slice(from)).toEqual([]);
  });

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

  it('the identical [Retire] payload twice: one job, one line, one DM, and no second answer; a click on the stale App Home afterwards is told it is done', async () => {
    await launch(ALICE, 'twice');
    const from = h.slack.calls.length;
    const click = homeClick(ALICE, 'home_retire', 'twice');
    await Promise.all([h.interact(click), h.interact(click)]);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(ALICE)(c) && /`twice` was retired/.test(messageText(c.args)), 60_000);
    await settled();
    expect(await exists('twice._.1001')).toBe(false);
    expect(await jobsFor('retire', 'twice')).toHaveLength(1);
    expect(channelLines(from, 'twice')).toHaveLength(1);
    expect(retiredDms(from, ALICE, 'twice')).toHaveLength(1);
    // Slack shows the first answer; the identical delivery adds none.
    expect(since(from).filter((c) => dmTo(ALICE)(c) && /Retiring `twice`/.test(messageText(c.args)))).toHaveLength(2); // the reply and the progress message, once each
    expect(since(from).filter((c) => dmTo(ALICE)(c) && /already/.test(messageText(c.args)))).toHaveLength(0);

    const stale = h.slack.calls.length;
    await h.interact(homeClick(ALICE, 'home_retire', 'twice'));
    const told = await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= stale && dmTo(ALICE)(c) && /already retired/.test(messageText(c.args)), 15_000);
    expect(messageText(told.args)).toMatch(/`twice` was already retired on gpu1 at \d\d:\d\d UTC/);
    await settled();
    expect(await jobsFor('retire', 'twice')).toHaveLength(1);
    expect(channelLines(stale, 'twice')).toHaveLength(0);
  });

  it('two bot replicas on one Redis get the same click, and then two clicks one each: one retirement, announced once', async () => {
    const replica = await h.startReplica();
    await launch(ALICE, 'replica');
    const from = h.slack.calls.length;
    const click = homeClick(ALICE, 'home_retire', 'replica');
    await Promise.all([h.interact(click), h.interact(click, replica), h.interact(homeClick(ALICE, 'home_retire', 'replica'), replica)]);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(ALICE)(c) && /`replica` was retired/.test(messageText(c.args)), 60_000);
    await settled();
    expect(await exists('replica._.1001')).toBe(false);
    expect(await jobsFor('retire', 'replica')).toHaveLength(1);
    expect(channelLines(from, 'replica')).toHaveLength(1);
    expect(retiredDms(from, ALICE, 'replica')).toHaveLength(1);
  });

  it('/ds01 retire: the identical command twice and a second command a moment later queue one retirement', async () => {
    await launch(ALICE, 'bycmd');
    const from = h.slack.calls.length;
    const responseUrl = h.slack.responseUrl();
    const body = slashCommandBody({ text: 'retire bycmd --force', user_id: ALICE.slack_id, user_name: 'alice', response_url: responseUrl, trigger_id: `${Date.now()}.cmd` });
    const first = await h.slash(ALICE, 'retire bycmd --force');
    expect(messageText((await h.responseTo(first.responseUrl)).args)).toMatch(/Retiring `bycmd` on gpu1/);
    await Promise.all([
      postToApp(h.eventsUrl, h.signingSecret, body, 'application/x-www-form-urlencoded'),
      postToApp(h.eventsUrl, h.signingSecret, body, 'application/x-www-form-urlencoded'),
    ]);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(ALICE)(c) && /`bycmd` was retired/.test(messageText(c.args)), 60_000);
    await settled();
    expect(await jobsFor('retire', 'bycmd')).toHaveLength(1);
    expect(channelLines(from, 'bycmd')).toHaveLength(1);
    expect(retiredDms(from, ALICE, 'bycmd')).toHaveLength(1);
    // The repeated command got one answer on its response_url, and it says the work is in hand.
    const path = new URL(responseUrl).pathname;
    const answers = h.slack.calls.filter((c) => c.method === 'response_url' && c.args.response_url === path);
    expect(answers).toHaveLength(1);
    expect(messageText(answers[0]!.args)).toMatch(/already (being )?retired/);
  });

  /** A click on a button of a message (a DM from the bot), as Slack sends it. */
  function messageClick(user: TestUser, actionId: string, value: string, message: { channel: string; ts: string; text?: string }): Record<string, unknown> {
    clicks += 1;
    return {
      type: 'block_actions',
      api_app_id: 'A0DS01BOT',
      team: { id: 'T0DS01', domain: 'ds01' },
      user: { id: user.slack_id, username: user.user, team_id: 'T0DS01' },
      trigger_id: `${Date.now()}.${clicks}.msg`,
      container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
      channel: { id: message.channel, name: 'directmessage' },
      message: { type: 'message', ts: message.ts, text: message.text ?? 'a message with a button' },
      response_url: h.slack.responseUrl(),
      actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: `${Date.now() / 1000}${clicks}` }],
    };
  }

  it('[Retire anyway] clicked twice, and the identical click again: retired once, one line, one DM', async () => {
    await launch(ALICE, 'pkgs');
    expect(await execIn('pkgs._.1001', ['pip', 'install', 'einops==0.7.0'])).toMatch(/Successfully installed einops/);
    const from = h.slack.calls.length;
    const r = await h.slash(ALICE, 'retire pkgs');
    await h.responseTo(r.responseUrl);
    const ask = await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(ALICE)(c) && /would lose packages/.test(messageText(c.args)), 60_000);
    const buttons = (ask.args.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find((b) => b.type === 'actions')!.elements!;
    const anyway = buttons.find((b) => b.action_id === 'retire_anyway')!;
    const message = { channel: String(ask.args.channel), ts: String(ask.args.ts) };
    const first = messageClick(ALICE, 'retire_anyway', anyway.value, message);
    await Promise.all([h.interact(first), h.interact(first), h.interact(messageClick(ALICE, 'retire_anyway', anyway.value, message))]);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(ALICE)(c) && /`pkgs` was retired/.test(messageText(c.args)), 60_000);
    await settled();
    expect(await exists('pkgs._.1001')).toBe(false);
    const jobs = await jobsFor('retire', 'pkgs');
    expect(jobs.map((j) => (j.data as { confirmFirst: boolean }).confirmFirst).sort()).toEqual([false, true]); // the question, and one answer
    expect(channelLines(from, 'pkgs')).toHaveLength(1);
    expect(retiredDms(from, ALICE, 'pkgs')).toHaveLength(1);
    // The question turned into the outcome in place; nothing else was posted to alice about it.
    expect(since(from).filter((c) => c.method === 'chat.postMessage' && dmTo(ALICE)(c) && messageText(c.args).includes('`pkgs`'))).toHaveLength(1); // the progress message
  });

  it('[Keep alive] clicked twice and the identical click again: one keep-alive job, one confirmation', async () => {
    await launch(BOB, 'keeper');
    const message = { channel: 'D0BOB', ts: '1795720000.000100' };
    const value = JSON.stringify({ project: 'keeper', hours: 4 });
    const from = h.slack.calls.length;
    const first = messageClick(BOB, 'keepalive', value, message);
    await Promise.all([h.interact(first), h.interact(first), h.interact(messageClick(BOB, 'keepalive', value, message))]);
    await h.slack.waitFor(
      (c) => h.slack.calls.indexOf(c) >= from && c.method === 'chat.update' && c.args.ts === message.ts && /will not be retired/.test(messageText(c.args)),
      30_000,
    );
    await settled();
    expect(await jobsFor('keepalive', 'keeper')).toHaveLength(1);
    expect(since(from).filter((c) => dmTo(BOB)(c))).toHaveLength(1);
  });

  it('/ds01 keepalive sent twice a moment apart: one keep-alive job, one confirmation, and the second is told', async () => {
    const from = h.slack.calls.length;
    const before = (await jobsFor('keepalive', 'keeper')).length;
    const first = await h.slash(BOB, 'keepalive keeper 2');
    expect(messageText((await h.responseTo(first.responseUrl)).args)).toMatch(/Keeping `keeper` alive for 2 h/);
    const second = await h.slash(BOB, 'keepalive keeper 2');
    expect(messageText((await h.responseTo(second.responseUrl)).args)).toMatch(/already being kept alive for 2 h/);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(BOB)(c) && /will not be retired/.test(messageText(c.args)), 30_000);
    await settled();
    expect((await jobsFor('keepalive', 'keeper')).length - before).toBe(1);
    expect(since(from).filter((c) => dmTo(BOB)(c))).toHaveLength(1);
  });

  it('[Recreate container] clicked twice at once: one retirement, one new container, one line', async () => {
    await launch(ALICE, 'live');
    const before = (await docker().getContainer('live._.1001').inspect()).Id;
    const message = { channel: 'D0ALICE', ts: '1795730000.000100' };
    const value = JSON.stringify({ project: 'live', host: 'gpu1', container: 'live._.1001' });
    const from = h.slack.calls.length;
    const first = messageClick(ALICE, 'recreate_container', value, message);
    await Promise.all([h.interact(first), h.interact(messageClick(ALICE, 'recreate_container', value, message)), h.interact(first)]);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(ALICE)(c) && /is running/.test(messageText(c.args)) && messageText(c.args).includes('`live`'), 90_000);
    await settled();
    const jobs = await jobsFor('retire', 'live');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.data).toMatchObject({ reason: 'recreate', relaunch: true });
    const after = await docker().getContainer('live._.1001').inspect();
    expect(after.Id).not.toBe(before);
    expect(channelLines(from, 'live')).toHaveLength(1);
    expect(since(from).filter((c) => c.method === 'chat.update' && c.args.ts === message.ts && /on its way/.test(messageText(c.args)))).toHaveLength(1);
    await docker().getContainer('live._.1001').remove({ force: true }); // alice's GPU quota, for the tests below
  });

  /** The package modal submitted, as Slack sends it (each call is a distinct submission). */
  function submission(user: TestUser, project: string, python: string): Record<string, unknown> {
    clicks += 1;
    return {
      type: 'view_submission',
      team: { id: 'T0DS01', domain: 'ds01' },
      user: { id: user.slack_id, username: user.user, name: user.user, team_id: 'T0DS01' },
      api_app_id: 'A0DS01BOT',
      trigger_id: `${Date.now()}.${clicks}.submit`,
      view: {
        id: `V0MODAL${clicks}`,
        team_id: 'T0DS01',
        type: 'modal',
        callback_id: 'image_update_submit',
        private_metadata: JSON.stringify({ project, owner: user.slack_id, host: 'gpu1' }),
        hash: `1700000000.${clicks}`,
        title: { type: 'plain_text', text: 'Add packages' },
        blocks: [],
        state: {
          values: {
            python: { python_input: { type: 'plain_text_input', value: python } },
            system: { system_input: { type: 'plain_text_input', value: null } },
            options: { options_input: { type: 'checkboxes', selected_options: [] } },
          },
        },
      },
      response_urls: [],
    };
  }

  it('the same packages submitted twice (two modals, and one submission delivered twice): one build, one DM', async () => {
    const from = h.slack.calls.length;
    const one = submission(ALICE, 'img', 'einops==0.7.0');
    const acks = await Promise.all([h.interact(one), h.interact(one), h.interact(submission(ALICE, 'img', 'einops==0.7.0'))]);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(ALICE)(c) && /The image for `img` is ready/.test(messageText(c.args)), 90_000);
    await settled();
    expect(await jobsFor('build', 'img')).toHaveLength(1);
    expect(since(from).filter((c) => c.method === 'chat.postMessage' && dmTo(ALICE)(c) && messageText(c.args).includes('`img`'))).toHaveLength(1);
    // The second modal was told, in the modal, that the packages are on their way.
    expect(acks.filter((a) => a.body.includes('already being added'))).toHaveLength(1);
  });

  it('a double click on App Home [Launch]: one launch job, and the second click is told it is under way', async () => {
    const from = h.slack.calls.length;
    await Promise.all([h.interact(homeClick(ALICE, 'home_launch', 'lnch')), h.interact(homeClick(ALICE, 'home_launch', 'lnch'))]);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(ALICE)(c) && /is running/.test(messageText(c.args)) && messageText(c.args).includes('`lnch`'), 90_000);
    await settled();
    expect(await jobsFor('launch', 'lnch')).toHaveLength(1);
    expect(since(from).filter((c) => dmTo(ALICE)(c) && /already under way/.test(messageText(c.args)))).toHaveLength(1);
    await docker().getContainer('lnch._.1001').remove({ force: true });
  });

  it('"did this help?" clicked twice (both answers) counts one vote', async () => {
    const before = await conn.llen(RedisKey.faqFeedback);
    const from = h.slack.calls.length;
    await h.event({
      token: 'deprecated-verification-token',
      team_id: 'T0DS01',
      api_app_id: 'A0DS01BOT',
      type: 'event_callback',
      event_id: 'Ev0ONCE0001',
      event_time: 1_700_000_001,
      event: {
        type: 'message',
        channel: 'D0ALICE',
        channel_type: 'im',
        user: ALICE.slack_id,
        text: 'how do I keep my container alive overnight',
        ts: '1700000001.000100',
        event_ts: '1700000001.000100',
      },
    });
    const answer = await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && c.method === 'chat.postMessage' && c.args.channel === 'D0ALICE', 15_000);
    const blocks = answer.args.blocks as Array<{ type: string; block_id?: string; elements?: Array<{ action_id: string; value: string }> }>;
    const block = blocks.find((b) => b.type === 'actions' && b.elements?.some((e) => e.action_id === 'faq_helpful_yes'))!;
    const vote = (actionId: string) => {
      const button = block.elements!.find((e) => e.action_id === actionId)!;
      const click = messageClick(ALICE, actionId, button.value, { channel: 'D0ALICE', ts: '1700000001.000200' });
      (click.actions as Array<Record<string, unknown>>)[0]!.block_id = block.block_id;
      (click.message as Record<string, unknown>).blocks = blocks;
      return click;
    };
    const yes = vote('faq_helpful_yes');
    await Promise.all([h.interact(yes), h.interact(yes), h.interact(vote('faq_helpful_no'))]);
    await h.bot.waitForLine(/did this help.{0,3} clicked again; the first vote stands/);
    await settled();
    expect((await conn.llen(RedisKey.faqFeedback)) - before).toBe(1);
    expect(since(from).filter((c) => c.method === 'chat.update' && c.args.ts === '1700000001.000200')).toHaveLength(1);
  });

  it('a double click on an App Home "Show answer" posts the answer once', async () => {
    const from = h.slack.calls.length;
    await Promise.all([h.interact(homeClick(ALICE, 'faq_topic', 'disk-space')), h.interact(homeClick(ALICE, 'faq_topic', 'disk-space'))]);
    await h.bot.waitForLine(/FAQ topic button clicked again; the answer is already there/);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && c.method === 'chat.postMessage' && c.args.channel === ALICE.slack_id, 15_000);
    await settled();
    expect(since(from).filter((c) => c.method === 'chat.postMessage' && c.args.channel === ALICE.slack_id)).toHaveLength(1);
  });

  it('two retire jobs for one container reach the worker directly (past any bot): it is retired and announced once', async () => {
    await launch(ALICE, 'direct');
    const from = h.slack.calls.length;
    const job = (requestId: string) =>
      sign(TEST_JOB_SECRET, {
        kind: 'retire',
        requestId,
        owner: { slackUserId: ALICE.slack_id, user: 'alice', uid: ALICE.uid },
        requestedBy: 'alice',
        project: 'direct',
        reply: null,
        reason: 'user',
        relaunch: false,
        confirmFirst: false,
      });
    await Promise.all([hostQueue.add('retire', job('rdirect00001'), { jobId: 'retire-direct-1' }), hostQueue.add('retire', job('rdirect00002'), { jobId: 'retire-direct-2' })]);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(ALICE)(c) && /`direct` was retired/.test(messageText(c.args)), 60_000);
    await settled();
    expect(await exists('direct._.1001')).toBe(false);
    expect(channelLines(from, 'direct')).toHaveLength(1);
    expect(retiredDms(from, ALICE, 'direct')).toHaveLength(1);
    // Neither job failed: the second found the work done (or in hand) and said nothing.
    const states = await Promise.all((await jobsFor('retire', 'direct')).map((j) => j.getState()));
    expect(states).toEqual(['completed', 'completed']);
    expect(since(from).filter((c) => dmTo(ALICE)(c) && /nothing to retire/.test(messageText(c.args)))).toHaveLength(0);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Queue, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostSnapshot } from '../../src/contract/hosts.js';
import { hostQueueName } from '../../src/contract/queues.js';
import { postToApp, slashCommandBody } from '../../src/local/slack-signing.js';
import type { RecordedCall } from '../../src/local/slack-simulator.js';
import { Harness, messageText, execIn } from '../support/harness.js';
import { ALICE, BOB, docker, redis, World, type TestUser } from '../support/services.js';
import { readHostSnapshot } from '../support/hosts.js';

/**
 * `/ds01 image-update`, end to end: the bot and worker processes, the Slack simulator, real Redis
 * and a real Docker engine. The package modal, its inline errors, the Dockerfile edit, the one DM
 * that follows the build, and the [Add to image] / [Recreate container] buttons.
 */
type AnyRecord = Record<string, any>;

const dmOf = (u: TestUser) => `D${u.slack_id.slice(1)}`;

describe('/ds01 image-update, end to end (bot + worker processes, real Redis and Docker)', () => {
  const world = new World();
  const h = new Harness(world);
  const conn = redis();
  const hostQueue = new Queue(hostQueueName('gpu1'), { connection: conn });
  let triggers = 0;

  beforeAll(async () => {
    for (const p of ['demo', 'live', 'safe', 'broken', 'twin']) world.addProject(ALICE, p);
    await h.start([{ hostId: 'gpu1', gpus: 'fake:4' }]);
  });
  afterAll(async () => {
    await hostQueue.close();
    await conn.quit();
    await h.stop();
  });

  const dockerfileOf = (project: string) => readFileSync(path.join(world.projectDir(ALICE, project), 'Dockerfile'));

  /** `/ds01 <text>` with a trigger_id the test knows, as Slack sends it. */
  async function slashWithTrigger(user: TestUser, text: string): Promise<{ status: number; body: string; triggerId: string }> {
    const triggerId = `${Date.now()}.${++triggers}.trigger`;
    const body = slashCommandBody({ text, user_id: user.slack_id, user_name: user.user, response_url: h.slack.responseUrl(), trigger_id: triggerId });
    const res = await postToApp(h.eventsUrl, h.signingSecret, body, 'application/x-www-form-urlencoded');
    return { ...res, triggerId };
  }

  /** Opens the modal for `project` and returns what Slack shows once the bot has filled it in. */
  async function openModal(user: TestUser, project: string): Promise<{ opened: RecordedCall; updated: RecordedCall; viewId: string; metadata: string }> {
    const r = await slashWithTrigger(user, `image-update ${project}`);
    expect(r.status).toBe(200);
    const opened = await h.slack.waitFor((c) => c.method === 'views.open' && c.args.trigger_id === r.triggerId, 15_000, `views.open for ${project}`);
    const index = h.slack.calls.indexOf(opened);
    // The bot fills in the view it just opened (host, packages already added).
    const updated = await h.slack.waitFor(
      (c) => c.method === 'views.update' && h.slack.calls.indexOf(c) > index && (c.args.view as AnyRecord)?.private_metadata?.includes(`"project":"${project}"`),
      15_000,
      `views.update for ${project}`,
    );
    const view = updated.args.view as AnyRecord;
    return { opened, updated, viewId: String(updated.args.view_id), metadata: String(view.private_metadata) };
  }

  function submission(user: TestUser, metadata: string, fields: { python?: string; system?: string; noCache?: boolean }): AnyRecord {
    return {
      type: 'view_submission',
      team: { id: 'T0DS01', domain: 'ds01' },
      user: { id: user.slack_id, username: user.user, name: user.user, team_id: 'T0DS01' },
      api_app_id: 'A0DS01BOT',
      token: 'deprecated-verification-token',
      trigger_id: `${Date.now()}.${++triggers}.submit`,
      view: {
        id: 'V0MODAL',
        team_id: 'T0DS01',
        type: 'modal',
        callback_id: 'image_update_submit',
        private_metadata: metadata,
        hash: '1700000000.abcdef',
        title: { type: 'plain_text', text: 'Add packages' },
        blocks: [],
        state: {
          values: {
            python: { python_input: { type: 'plain_text_input', value: fields.python ?? null } },
            system: { system_input: { type: 'plain_text_input', value: fields.system ?? null } },
            options: {
              options_input: { type: 'checkboxes', selected_options: fields.noCache ? [{ value: 'no_cache', text: { type: 'plain_text', text: 'Rebuild without cache' } }] : [] },
            },
          },
        },
        app_id: 'A0DS01BOT',
        bot_id: 'B0DS01BOT',
      },
      response_urls: [],
      is_enterprise_install: false,
    };
  }

  function buttonClick(user: TestUser, actionId: string, value: string, message?: { channel: string; ts: string; blocks: unknown }): AnyRecord {
    const channel = message?.channel ?? dmOf(user);
    const ts = message?.ts ?? '1700000000.000100';
    return {
      type: 'block_actions',
      user: { id: user.slack_id, username: user.user, name: user.user, team_id: 'T0DS01' },
      api_app_id: 'A0DS01BOT',
      token: 'deprecated-verification-token',
      team: { id: 'T0DS01', domain: 'ds01' },
      trigger_id: `${Date.now()}.${++triggers}.button`,
      container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
      channel: { id: channel, name: 'directmessage' },
      message: { type: 'message', ts, text: 'a message with a button', user: 'U0DS01BOT', bot_id: 'B0DS01BOT', blocks: message?.blocks ?? [] },
      response_url: h.slack.responseUrl(),
      state: { values: {} },
      actions: [{ action_id: actionId, block_id: 'b1', value, type: 'button', text: { type: 'plain_text', text: 'Button' }, action_ts: `${Date.now() / 1000}` }],
    };
  }

  /** The DM the bot opens for a build of `project` after `after` (an index into the calls). */
  const progressMessage = (user: TestUser, project: string, after: number) =>
    h.slack.waitFor(
      (c) =>
        c.method === 'chat.postMessage' &&
        c.args.channel === user.slack_id &&
        h.slack.calls.indexOf(c) >= after &&
        messageText(c.args).includes(`Updating the image for \`${project}\``),
      15_000,
      `the progress DM for ${project}`,
    );

  const outcome = (ts: string) =>
    h.slack.waitFor((c) => c.method === 'chat.update' && c.args.ts === ts && /is ready|did not build/.test(messageText(c.args)), 50_000, `the outcome of build message ${ts}`);

  const updatesOf = (ts: string) => h.slack.callsOf('chat.update').filter((c) => c.args.ts === ts);

  async function jobsFor(project: string, kind: string): Promise<Job[]> {
    const jobs = await hostQueue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children']);
    return jobs.filter((j) => j && j.data?.kind === kind && j.data?.project === project);
  }

  async function launch(user: TestUser, project: string): Promise<string> {
    const r = await h.slash(user, `launch ${project}`);
    await h.responseTo(r.responseUrl);
    const done = await h.slack.waitFor(
      (c) => (c.method === 'chat.update' || c.method === 'chat.postMessage') && messageText(c.args).includes(`\`${project}\` is running`),
      50_000,
      `${project} running`,
    );
    return messageText(done.args);
  }

  /** Polls the host snapshot (refreshed every second by the worker) until `pred` holds. */
  async function snapshotWhere(pred: (s: HostSnapshot) => boolean, timeoutMs = 15_000): Promise<HostSnapshot> {
    const deadline = Date.now() + timeoutMs;
    let last: HostSnapshot | null = null;
    while (Date.now() < deadline) {
      last = await readHostSnapshot(conn, 'gpu1');
      if (last && pred(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the host snapshot never matched; last: ${JSON.stringify(last?.images)}`);
  }

  it('opens the package modal at once with the slash command trigger, then fills in the host', async () => {
    const r = await slashWithTrigger(ALICE, 'image-update demo');
    expect(r.status).toBe(200);
    expect(r.body).toBe(''); // acked empty: the modal is the answer
    const opened = await h.slack.waitFor((c) => c.method === 'views.open' && c.args.trigger_id === r.triggerId, 15_000, 'views.open');
    const view = opened.args.view as AnyRecord;
    expect(view.callback_id).toBe('image_update_submit');
    expect(JSON.stringify(view.blocks)).toContain('`demo`');
    expect(JSON.stringify(view.blocks)).toContain('Looking up the packages already in this image');
    expect(JSON.parse(view.private_metadata)).toEqual({ project: 'demo', owner: ALICE.slack_id });

    const updated = await h.slack.waitFor((c) => c.method === 'views.update' && h.slack.calls.indexOf(c) > h.slack.calls.indexOf(opened), 15_000, 'views.update');
    const full = updated.args.view as AnyRecord;
    expect(updated.args.view_id).toMatch(/^V\d+$/);
    expect(JSON.stringify(full.blocks)).toContain('*gpu1*');
    expect(JSON.parse(full.private_metadata)).toEqual({ project: 'demo', owner: ALICE.slack_id, host: 'gpu1' });
    expect((full.blocks as AnyRecord[]).map((b) => b.block_id)).toEqual(expect.arrayContaining(['python', 'system', 'options']));
  });

  it('a valid submission closes the modal, edits the Dockerfile, and one DM follows the build to success; a launch then has the packages', async () => {
    const before = dockerfileOf('demo');
    const { metadata } = await openModal(ALICE, 'demo');
    const mark = h.slack.calls.length;
    const res = await h.interact(submission(ALICE, metadata, { python: 'einops\nrich==13.7.1', system: 'ffmpeg' }));
    expect(res.status).toBe(200);
    expect(res.body).toBe(''); // closes the modal

    const posted = await progressMessage(ALICE, 'demo', mark);
    expect(messageText(posted.args)).toContain('`einops`');
    expect(messageText(posted.args)).toContain('`rich==13.7.1`');
    expect(messageText(posted.args)).toContain('`ffmpeg`');
    const [ts] = await newBuildMessages('demo', []);
    const done = await outcome(ts!);
    expect(messageText(done.args)).toMatch(/The image for `demo` is ready/);
    expect(done.args.channel).toBe(dmOf(ALICE));
    // Updated in place through the build's steps.
    expect(updatesOf(ts!).some((c) => /Building\* — step \d+ of \d+/.test(messageText(c.args)))).toBe(true);
    // Exactly one new message for this build: every later word went into it.
    const newPosts = h.slack.calls.slice(mark).filter((c) => c.method === 'chat.postMessage' && c.args.channel === ALICE.slack_id);
    expect(newPosts).toHaveLength(1);

    const text = messageText(done.args);
    expect(text).toContain('`einops`');
    expect(text).toContain('`rich==13.7.1`');
    expect(text).toContain('`ffmpeg`');
    expect(text).not.toMatch(/old image/);
    expect(text).toContain('/ds01 launch demo');

    const dir = world.projectDir(ALICE, 'demo');
    const after = dockerfileOf('demo').toString('latin1');
    expect(after).toMatch(/\beinops\b/);
    expect(after).toContain('rich==13.7.1');
    expect(after).toMatch(/apt-get install[^\n]*\n(?:.*\n)*?.*\bffmpeg\b/);
    expect(existsSync(path.join(dir, 'Dockerfile.bak'))).toBe(true);
    expect(readFileSync(path.join(dir, 'Dockerfile.bak')).equals(before)).toBe(true);

    expect(await launch(ALICE, 'demo')).toMatch(/is running/);
    const list = JSON.parse(await execIn('demo._.1001', ['pip', 'list', '--format=json'])) as Array<{ name: string; version: string }>;
    const versions = Object.fromEntries(list.map((p) => [p.name, p.version]));
    expect(versions.einops).toBeDefined();
    expect(versions.rich).toBe('13.7.1');
    expect(versions.numpy).toBe('1.26.4');
    expect(await execIn('demo._.1001', ['cat', '/var/lib/apt-installed.txt'])).toContain('ffmpeg');
  });

  it('the modal lists the packages the image already has, read by the worker from the Dockerfile', async () => {
    const snap = await snapshotWhere((s) => s.images.some((i) => i.project === 'demo' && i.packages.python.includes('einops')));
    const image = snap.images.find((i) => i.project === 'demo')!;
    expect(image.packages.python).toEqual(expect.arrayContaining(['numpy==1.26.4', 'einops', 'rich==13.7.1']));
    expect(image.packages.system).toEqual(['ffmpeg']);

    const { updated } = await openModal(ALICE, 'demo');
    const text = JSON.stringify((updated.args.view as AnyRecord).blocks);
    expect(text).toContain('Already added');
    for (const p of ['numpy==1.26.4', 'einops', 'rich==13.7.1', 'ffmpeg']) expect(text).toContain(`\`${p}\``);
  });

  it('a bad line is shown on its field, naming the line and why; nothing is applied and no build starts', async () => {
    const before = dockerfileOf('safe');
    const { metadata } = await openModal(ALICE, 'safe');
    const mark = h.slack.calls.length;
    const res = await h.interact(submission(ALICE, metadata, { python: 'einops\nnumpy; rm -rf /', system: 'ffmpeg' }));
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as AnyRecord;
    expect(Object.keys(body).sort()).toEqual(['errors', 'response_action']);
    expect(body.response_action).toBe('errors');
    expect(Object.keys(body.errors)).toEqual(['python']);
    expect(body.errors.python).toMatch(/^Line 2 \(`numpy; rm -rf \/`\): /);
    expect(body.errors.python).toMatch(/not allowed/);

    expect(dockerfileOf('safe').equals(before)).toBe(true);
    expect(await jobsFor('safe', 'build')).toHaveLength(0);
    expect(h.slack.calls.slice(mark).filter((c) => c.method === 'chat.postMessage' && messageText(c.args).includes('`safe`'))).toHaveLength(0);
  });

  it('every hostile entry is refused inline, in either field, and the Dockerfile stays byte-identical', async () => {
    const before = dockerfileOf('safe');
    const { metadata } = await openModal(ALICE, 'safe');
    const mark = h.slack.calls.length;
    const hostile = [
      '$(curl x)',
      '`curl x`',
      'numpy; rm -rf /',
      'a && b',
      'a | sh',
      'numpy \\\nrm -rf /',
      'numpy\rrm -rf /',
      'numpy\r\nrm -rf /',
      '--index-url http://x',
      '-e git+https://x',
      'n\u057Dmpy', // Armenian "ս" that looks like "u"
      'numpy\u0000',
      'numpy > /etc/passwd',
      "numpy' ; id ; '",
    ];
    for (const field of ['python', 'system'] as const) {
      for (const entry of hostile) {
        const res = await h.interact(submission(ALICE, metadata, { [field]: entry }));
        expect(res.status, JSON.stringify(entry)).toBe(200);
        const body = JSON.parse(res.body) as AnyRecord;
        expect(body.response_action, JSON.stringify(entry)).toBe('errors');
        expect(body.errors[field], `${field}: ${JSON.stringify(entry)}`).toMatch(/Line \d/);
      }
      // All at once, next to good lines: still all refused, every problem counted.
      const res = await h.interact(submission(ALICE, metadata, { [field]: ['einops', ...hostile].join('\n') }));
      const body = JSON.parse(res.body) as AnyRecord;
      expect(body.response_action).toBe('errors');
      expect(body.errors[field]).toMatch(/more lines? to fix/);
    }
    expect(dockerfileOf('safe').equals(before)).toBe(true);
    expect(await jobsFor('safe', 'build')).toHaveLength(0);
    expect(h.slack.calls.slice(mark).filter((c) => c.method.startsWith('chat.') && messageText(c.args).includes('`safe`'))).toHaveLength(0);
  });

  it('only the owner can submit their form; someone else gets an inline refusal and nothing runs', async () => {
    const { metadata } = await openModal(ALICE, 'safe');
    const before = dockerfileOf('safe');
    const res = await h.interact(submission(BOB, metadata, { python: 'einops' }));
    const body = JSON.parse(res.body) as AnyRecord;
    expect(body.response_action).toBe('errors');
    expect(body.errors.python).toMatch(/not one I opened for you/);
    const ghost = { slack_id: 'U0GHOST', user: 'ghost', uid: 4242 };
    const res2 = await h.interact(submission(ghost, metadata, { python: 'einops' }));
    const body2 = JSON.parse(res2.body) as AnyRecord;
    expect(body2.response_action).toBe('update');
    expect(JSON.stringify(body2.view)).toMatch(/not registered with DS01/);
    expect(dockerfileOf('safe').equals(before)).toBe(true);
    expect(await jobsFor('safe', 'build')).toHaveLength(0);
  });

  it('a failing build ends with the failing step, the last log lines and a hint; image and Dockerfile are unchanged', async () => {
    // A first, good build, so there is an image to keep.
    const first = await openModal(ALICE, 'broken');
    await h.interact(submission(ALICE, first.metadata, { python: 'einops' }));
    const [okTs] = await newBuildMessages('broken', []);
    const okDone = await outcome(okTs!);
    expect(messageText(okDone.args)).toMatch(/is ready/);
    const imageBefore = (await docker().getImage('ds01-1001/broken:latest').inspect()).Id;
    const before = dockerfileOf('broken');

    const second = await openModal(ALICE, 'broken');
    const res = await h.interact(submission(ALICE, second.metadata, { python: 'nonexistent-pkg' }));
    expect(res.body).toBe('');
    const [failTs] = await newBuildMessages('broken', [okTs!]);
    const failed = await outcome(failTs!);
    const text = messageText(failed.args);
    expect(text).toMatch(/The image for `broken` did not build/);
    expect(text).toMatch(/Failing step:\* `step \d+\/\d+ \(RUN pip install/);
    expect(text).toMatch(/No matching distribution found for nonexistent-pkg/);
    expect(text).toMatch(/pip found no matching distribution/);
    expect(text).toMatch(/taken out again/);
    expect(text).not.toMatch(/at .*\.ts:\d+/); // no stack trace

    expect((await docker().getImage('ds01-1001/broken:latest').inspect()).Id).toBe(imageBefore);
    expect(dockerfileOf('broken').equals(before)).toBe(true);
  });

  it('two submissions for one project at the same time both land, each package once in one consistent Dockerfile', async () => {
    const { metadata } = await openModal(ALICE, 'twin');
    const [a, b] = await Promise.all([
      h.interact(submission(ALICE, metadata, { python: 'einops', system: 'ffmpeg' })),
      h.interact(submission(ALICE, metadata, { python: 'rich==13.7.1', system: 'libsndfile1' })),
    ]);
    expect([a.body, b.body]).toEqual(['', '']);
    const targets = await newBuildMessages('twin', [], 2);
    expect(new Set(targets).size).toBe(2);
    const outcomes = await Promise.all(targets.map(async (ts) => messageText((await outcome(ts)).args)));
    for (const t of outcomes) expect(t).toMatch(/The image for `twin` is ready/);

    const text = dockerfileOf('twin').toString('latin1');
    for (const word of ['einops', 'rich==13.7.1', 'ffmpeg', 'libsndfile1', 'numpy==1.26.4']) {
      expect(
        text.split(/[\s'"]+/).filter((w) => w === word),
        word,
      ).toHaveLength(1);
    }
    expect(await jobsFor('twin', 'build')).toHaveLength(2);
  });

  it('a project that does not exist ends the build message with one clear sentence', async () => {
    const { metadata } = await openModal(ALICE, 'ghostproj');
    const res = await h.interact(submission(ALICE, metadata, { python: 'einops' }));
    expect(res.body).toBe('');
    const [ts] = await newBuildMessages('ghostproj', []);
    const text = messageText((await outcome(ts!)).args);
    expect(text).toMatch(/did not build/);
    expect(text).toMatch(/no project called `ghostproj`/);
    expect(text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('when Slack will not open the modal, the user is told to run the command again and nothing is queued', async () => {
    h.slack.failures['views.open'] = 'expired_trigger_id';
    try {
      const r = await h.slash(ALICE, 'image-update safe');
      const reply = await h.responseTo(r.responseUrl);
      expect(messageText(reply.args)).toMatch(/Slack did not let me open the form for `safe`/);
      expect(messageText(reply.args)).toContain('/ds01 image-update safe');
    } finally {
      delete h.slack.failures['views.open'];
    }
    expect(await jobsFor('safe', 'build')).toHaveLength(0);
  });

  it('an [Add to image] button opens the same modal, pre-filled with its packages', async () => {
    const click = buttonClick(ALICE, 'image_update_open', JSON.stringify({ project: 'demo', python: ['einops==0.7.0'] }));
    const res = await h.interact(click);
    expect(res.status).toBe(200);
    const opened = await h.slack.waitFor((c) => c.method === 'views.open' && c.args.trigger_id === click.trigger_id, 15_000, 'views.open from the button');
    const view = opened.args.view as AnyRecord;
    expect(view.callback_id).toBe('image_update_submit');
    const python = (view.blocks as AnyRecord[]).find((b) => b.block_id === 'python')!;
    expect(python.element.initial_value).toContain('einops==0.7.0');
    expect(JSON.parse(view.private_metadata)).toMatchObject({ project: 'demo', owner: ALICE.slack_id });

    // A button with a value that is not ours opens nothing and says so.
    const bad = buttonClick(ALICE, 'image_update_open', JSON.stringify({ project: '../../etc' }));
    await h.interact(bad);
    const reply = await h.slack.waitFor((c) => c.method === 'response_url' && c.args.response_url === new URL(bad.response_url).pathname, 15_000);
    expect(messageText(reply.args)).toMatch(/did not say which project/);
    expect(h.slack.callsOf('views.open').some((c) => c.args.trigger_id === bad.trigger_id)).toBe(false);
  });

  it('when the project is running, success says the container still uses the old image; [Recreate container] queues a recreate', async () => {
    expect(await launch(ALICE, 'live')).toMatch(/is running/);
    const { metadata } = await openModal(ALICE, 'live');
    await h.interact(submission(ALICE, metadata, { python: 'einops' }));
    const [ts] = await newBuildMessages('live', []);
    const done = await outcome(ts!);
    const text = messageText(done.args);
    expect(text).toMatch(/is ready/);
    expect(text).toContain('Your running container `live._.1001` still uses the old image: recreate it to get the new packages');
    expect(text).toMatch(/files in \/workspace are kept/);
    const actions = (done.args.blocks as AnyRecord[]).find((b) => b.type === 'actions')!;
    const button = (actions.elements as AnyRecord[]).find((e) => e.action_id === 'recreate_container')!;
    expect(button.text.text).toBe('Recreate container');
    expect(JSON.parse(button.value)).toEqual({ project: 'live', host: 'gpu1', container: 'live._.1001' });

    const click = buttonClick(ALICE, 'recreate_container', button.value, { channel: String(done.args.channel), ts: ts!, blocks: done.args.blocks });
    const res = await h.interact(click);
    expect(res.status).toBe(200);
    const onItsWay = await h.slack.waitFor((c) => c.method === 'chat.update' && c.args.ts === ts && /on its way/.test(messageText(c.args)), 15_000, 'the recreate note');
    expect(JSON.stringify(onItsWay.args.blocks)).not.toContain('recreate_container');

    const retires = await jobsFor('live', 'retire');
    expect(retires).toHaveLength(1);
    const job = retires[0]!;
    expect(job.id).toMatch(/^retire-1001-live-/);
    expect(job.id).toBe(`retire-1001-live-${job.data.requestId}`);
    expect(job.data).toMatchObject({
      kind: 'retire',
      reason: 'recreate',
      relaunch: true,
      project: 'live',
      owner: { slackUserId: ALICE.slack_id, user: 'alice', uid: 1001 },
      requestedBy: 'alice',
      reply: { channel: String(done.args.channel), ts },
    });

    // A second click on the same message queues nothing new and says nothing: the note above is the answer.
    const before = h.slack.calls.length;
    await h.interact(buttonClick(ALICE, 'recreate_container', button.value, { channel: String(done.args.channel), ts: ts!, blocks: done.args.blocks }));
    await h.bot.waitForLine(/\[Recreate container\] clicked again; the first click stands/);
    expect(await jobsFor('live', 'retire')).toHaveLength(1);
    expect(h.slack.calls.slice(before).filter((c) => c.method === 'chat.update' && c.args.ts === ts && /on its way/.test(messageText(c.args)))).toHaveLength(0);
  });

  it("someone else's [Recreate container] button does nothing for the person who clicks it", async () => {
    const click = buttonClick(BOB, 'recreate_container', JSON.stringify({ project: 'live', host: 'gpu1', container: 'live._.1001' }));
    await h.interact(click);
    const reply = await h.slack.waitFor((c) => c.method === 'response_url' && c.args.response_url === new URL(click.response_url).pathname, 15_000);
    expect(messageText(reply.args)).toMatch(/not one of your containers/);
    expect((await jobsFor('live', 'retire')).filter((j) => j.data.owner.uid === BOB.uid)).toHaveLength(0);
  });

  /**
   * The DM messages (their ts) of builds of `project` queued since `known`: each build job carries
   * the message it updates, so this is the bot's own record of which message is whose.
   */
  async function newBuildMessages(project: string, known: string[], n = 1, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ts = (await jobsFor(project, 'build')).map((j) => String(j.data.reply?.ts ?? '')).filter((t) => t && !known.includes(t));
      if (ts.length >= n) return ts;
      if (Date.now() > deadline) throw new Error(`only ${ts.length} of ${n} new build jobs for ${project} were queued`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostQueueName } from '../../src/contract/queues.js';
import { verify } from '../../src/contract/signing.js';
import { Harness, messageText } from '../support/harness.js';
import { TEST_JOB_SECRET } from '../support/processes.js';
import { ADMIN, ALICE, BOB, docker, redis, World, type TestUser } from '../support/services.js';

/**
 * The permission matrix at the wire: every subcommand, button and modal, sent by the owner's
 * neighbours — another user, an admin without `--user`, and a Slack user the config doesn't
 * know — with alice's project names, her button values and her modal metadata (forged or
 * replayed). Nothing may act on alice's container or image; whatever is queued is for the clicker.
 */
const GHOST: TestUser = { slack_id: 'U0GHOST', user: 'ghost', uid: 4242 };

type Payload = Record<string, unknown>;

function click(user: TestUser, actionId: string, value: string): Payload {
  return {
    type: 'block_actions',
    user: { id: user.slack_id, username: user.user, team_id: 'T0DS01' },
    api_app_id: 'A0DS01BOT',
    team: { id: 'T0DS01', domain: 'ds01' },
    container: { type: 'message', message_ts: '1795710000.000200', channel_id: `D${user.slack_id.slice(1)}`, is_ephemeral: false },
    channel: { id: `D${user.slack_id.slice(1)}`, name: 'directmessage' },
    message: { type: 'message', ts: '1795710000.000200', text: 'a message alice was sent' },
    trigger_id: `${Date.now()}.7.trigger`,
    response_url: 'http://127.0.0.1:1/none',
    actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: '1795710001.0' }],
  };
}

function submit(user: TestUser, privateMetadata: string): Payload {
  return {
    type: 'view_submission',
    team: { id: 'T0DS01', domain: 'ds01' },
    user: { id: user.slack_id, username: user.user, name: user.user, team_id: 'T0DS01' },
    api_app_id: 'A0DS01BOT',
    trigger_id: `${Date.now()}.8.submit`,
    view: {
      id: 'V0FORGED',
      team_id: 'T0DS01',
      type: 'modal',
      callback_id: 'image_update_submit',
      private_metadata: privateMetadata,
      hash: '1700000000.abcdef',
      title: { type: 'plain_text', text: 'Add packages' },
      blocks: [],
      state: {
        values: {
          python: { python_input: { type: 'plain_text_input', value: 'requests' } },
          system: { system_input: { type: 'plain_text_input', value: null } },
          options: { options_input: { type: 'checkboxes', selected_options: [] } },
        },
      },
      app_id: 'A0DS01BOT',
      bot_id: 'B0DS01BOT',
    },
    response_urls: [],
  };
}

describe('permission matrix: nobody but the owner (or an admin, explicitly) acts on a container or image', () => {
  const world = new World([ALICE, BOB, ADMIN]);
  const h = new Harness(world);
  const conn = redis();
  const queue = new Queue(hostQueueName('gpu1'), { connection: conn });
  let aliceContainer = '';
  let aliceDockerfile: Buffer;

  beforeAll(async () => {
    world.addProject(ALICE, 'demo');
    await h.start([{ hostId: 'gpu1', gpus: 'fake:4', env: { DS01_CHECK_INTERVAL_S: '86400' } }]);
    const r = await h.slash(ALICE, 'launch demo');
    await h.responseTo(r.responseUrl);
    await h.slack.waitFor((c) => String(c.args.channel).slice(1) === ALICE.slack_id.slice(1) && /is running/.test(messageText(c.args)), 90_000);
    aliceContainer = (await docker().getContainer('demo._.1001').inspect()).Id;
    aliceDockerfile = readFileSync(path.join(world.projectDir(ALICE, 'demo'), 'Dockerfile'));
  });
  afterAll(async () => {
    await queue.close();
    await conn.quit();
    await h.stop();
  });

  /** The reply on a response_url, or a DM to the user that the command posted instead (image-update opens a modal). */
  const answerTo = (responseUrl: string, what: string) =>
    h.responseTo(responseUrl, 15_000).then(
      (c) => messageText(c.args),
      (err: Error) => {
        throw new Error(`${what}: ${err.message.slice(0, 200)}`);
      },
    );

  const slashes = [
    'launch demo',
    'launch demo --rebuild',
    'retire demo',
    'retire demo --force',
    'retire demo --user alice',
    'image-update demo',
    'keepalive demo 4',
    'status',
    'gpus',
    'limits',
    'audit',
    'audit alice',
  ];
  const buttons: Array<[string, string]> = [
    ['retire_anyway', JSON.stringify({ project: 'demo', host: 'gpu1' })],
    ['keepalive', JSON.stringify({ project: 'demo', hours: 4 })],
    ['image_update_open', JSON.stringify({ project: 'demo', python: ['einops==0.7.0'] })],
    ['recreate_container', JSON.stringify({ container: 'demo._.1001', project: 'demo', host: 'gpu1' })],
    ['home_launch', 'demo'],
    ['home_retire', 'demo'],
  ];
  const forgedMetadata = [
    JSON.stringify({ project: 'demo', owner: ALICE.slack_id, host: 'gpu1' }), // alice's, replayed
    JSON.stringify({ project: 'demo', owner: BOB.slack_id, host: 'gpu1' }), // forged as the clicker's
  ];

  it("bob, an admin without --user, and an unregistered user each get a sentence, and alice's container and image are untouched", async () => {
    for (const actor of [BOB, ADMIN, GHOST]) {
      for (const text of slashes) {
        if (actor === ADMIN && text.includes('--user')) continue; // an admin's explicit --user is allowed (lifecycle tests)
        const r = await h.slash(actor, text);
        expect(r.status, `${actor.user}: ${text}`).toBe(200);
        // Every answer is a sentence: in the ack itself, or on the response_url.
        // A registered user's image-update opens the package modal (for their own project of that name).
        if (text.startsWith('image-update') && actor !== GHOST) continue;
        const said = r.ack.text ? String(r.ack.text) : await answerTo(r.responseUrl, `${actor.user}: ${text}`);
        expect(said.length, `${actor.user}: ${text}`).toBeGreaterThan(10);
        if (actor === GHOST) expect(said, text).toMatch(/not registered/);
      }
      for (const [actionId, value] of buttons) {
        const res = await h.interact(click(actor, actionId, value));
        expect(res.status, `${actor.user}: ${actionId}`).toBe(200);
      }
      for (const meta of forgedMetadata) {
        const res = await h.interact(submit(actor, meta));
        expect(res.status).toBe(200);
      }
    }
    // A positive marker: when alice's own status is answered, everything above has been handled.
    // (`status` is answered in the ack itself; a help question is answered after it, like the work above.)
    const marker = await h.slash(ALICE, 'help where are my files');
    await h.responseTo(marker.responseUrl);
    const jobs = (await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'])).filter(Boolean);
    for (const job of jobs) {
      const data = verify(TEST_JOB_SECRET, job.data) as { owner?: { uid: number }; requestedBy?: string; kind: string } | null;
      expect(data, `job ${job.id} is signed`).not.toBeNull();
      if (data!.kind === 'lifecycle') continue;
      // Whatever was queued is for its requester, never for alice on someone else's say-so.
      if (data!.owner!.uid === ALICE.uid) expect(data!.requestedBy, `job ${job.id}`).toBe('alice');
    }
    expect(jobs.some((j) => (j.data as { requestedBy?: string }).requestedBy === 'ghost')).toBe(false);
    const info = await docker().getContainer('demo._.1001').inspect();
    expect(info.Id).toBe(aliceContainer);
    expect(info.State.Running).toBe(true);
    expect(readFileSync(path.join(world.projectDir(ALICE, 'demo'), 'Dockerfile')).equals(aliceDockerfile)).toBe(true);
    // Nobody but alice got a DM about alice's container.
    const aboutAlice = h.slack.calls.filter((c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && /demo._.1001/.test(messageText(c.args)));
    for (const c of aboutAlice) expect(String(c.args.channel).slice(1)).toBe(ALICE.slack_id.slice(1));
  });

  it('the audit trail is for admins: it shows the refusals above, and bob is refused it', async () => {
    const asBob = await h.slash(BOB, 'audit');
    expect(messageText((await h.responseTo(asBob.responseUrl)).args)).toMatch(/for DS01 admins/);
    const asAdmin = await h.slash(ADMIN, 'audit');
    const text = messageText((await h.responseTo(asAdmin.responseUrl)).args);
    expect(text).toMatch(/Audit trail/);
    expect(text).toMatch(/bob: audit — refused/);
    expect(text).toMatch(/U0GHOST: launch `demo` — refused \(not_registered\)/);
    const forAlice = await h.slash(ADMIN, 'audit alice');
    const aliceText = messageText((await h.responseTo(forAlice.responseUrl)).args);
    expect(aliceText).toMatch(/alice: launch `demo\._\.1001` on gpu1 — done/);
    expect(aliceText).not.toMatch(/bob: audit/);
  });
});

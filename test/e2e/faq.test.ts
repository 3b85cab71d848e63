import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostSnapshot } from '../../src/contract/hosts.js';
import { RedisKey } from '../../src/contract/queues.js';
import { parseFeedback } from '../../src/faq/feedback.js';
import { loadKnowledgeBase } from '../../src/faq/knowledge-base.js';
import type { RecordedCall } from '../../src/local/slack-simulator.js';
import { recordRetirement } from '../../src/slack/recent-retirements.js';
import { Harness, messageText } from '../support/harness.js';
import { ADMIN, ALICE, BOB, redis, World } from '../support/services.js';
import { writeHostSnapshot } from '../support/hosts.js';

/**
 * "Ask DS01" end to end: signed Events API and interactivity requests into the real bot process,
 * answers read back from the Slack simulator, state from the real Redis.
 */

const title = (id: string): string => {
  const t = loadKnowledgeBase().find((x) => x.id === id);
  if (!t) throw new Error(`no FAQ topic ${id}`);
  return t.title;
};

type Button = { action_id: string; value: string; block_id?: string };

/** Every button in a message, with the block id of the block it sits in. */
function buttonsOf(args: Record<string, unknown>): Button[] {
  const blocks = (args.blocks ?? []) as Array<{ type: string; block_id?: string; elements?: Button[]; accessory?: Button }>;
  return blocks.flatMap((b) => {
    const inBlock = b.type === 'actions' ? (b.elements ?? []) : b.accessory ? [b.accessory] : [];
    return inBlock.map((e) => ({ ...e, ...(b.block_id ? { block_id: b.block_id } : {}) }));
  });
}

let seq = 0;

/** An Events API envelope for a DM from `user` to the bot. */
function dm(text: string, over: Record<string, unknown> = {}, user = ALICE.slack_id, channel = `D${ALICE.slack_id.slice(1)}`) {
  seq++;
  const ts = `${1_700_000_000 + seq}.000100`;
  return {
    token: 'deprecated-verification-token',
    team_id: 'T0DS01',
    api_app_id: 'A0DS01BOT',
    type: 'event_callback',
    event_id: `Ev0FAQ${String(seq).padStart(4, '0')}`,
    event_time: 1_700_000_000 + seq,
    event: { type: 'message', channel, channel_type: 'im', user, text, ts, event_ts: ts, ...over },
  };
}

describe('Ask DS01: DM answers, feedback, /ds01 help and the App Home', () => {
  const world = new World();
  const h = new Harness(world);
  const r = redis();
  const D0ALICE = 'D0ALICE';

  beforeAll(async () => {
    await h.start([{ hostId: 'gpu1', gpus: 'fake:2' }]);
  });
  afterAll(async () => {
    await r.quit();
    await h.stop();
  });

  /** The first call from `mark` on that matches. */
  const next = (mark: number, pred: (c: RecordedCall) => boolean, what: string, timeoutMs = 15_000) =>
    h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= mark && pred(c), timeoutMs, what);

  const postedIn = (channel: string, c: RecordedCall) => c.method === 'chat.postMessage' && c.args.channel === channel;

  /** Sends a DM and returns the bot's answer to it. */
  async function ask(text: string, over: Record<string, unknown> = {}): Promise<RecordedCall> {
    const mark = h.slack.calls.length;
    const res = await h.event(dm(text, over));
    expect(res.status).toBe(200);
    return next(mark, (c) => postedIn(D0ALICE, c), `an answer to "${text}"`);
  }

  const answersWith = (topicId: string) => h.slack.calls.filter((c) => postedIn(D0ALICE, c) && messageText(c.args).includes(title(topicId)));

  it('a DM question gets the FAQ answer in that DM: fix command, CLI equivalent, read more and "did this help?"', async () => {
    const answer = await ask('how do I open jupyter lab in my container?');
    const text = messageText(answer.args);
    expect(text).toContain(title('jupyter'));
    expect(text).toMatch(/Fix it: `\/ds01 /);
    expect(text).toMatch(/CLI: `/);
    expect(text).toMatch(/Read more: `docs\//);
    expect(answer.args.thread_ts).toBeUndefined();
    const ids = buttonsOf(answer.args).map((b) => b.action_id);
    expect(ids).toEqual(['faq_helpful_yes', 'faq_helpful_no']);
    expect(Number(await r.zscore(RedisKey.faqAsked, 'jupyter'))).toBe(1);
  });

  it('a retried event (same event_id, X-Slack-Retry-Num) is answered once', async () => {
    const envelope = dm('can I connect vs code to my container');
    const mark = h.slack.calls.length;
    // The delivery and a retry racing it, then (once answered) a late retry.
    const [first, retry] = await Promise.all([h.event(envelope), h.event(envelope, { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' })]);
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    await next(mark, (c) => postedIn(D0ALICE, c) && messageText(c.args).includes(title('vscode')), 'the answer to the retried question');
    expect((await h.event(envelope, { 'X-Slack-Retry-Num': '2', 'X-Slack-Retry-Reason': 'http_timeout' })).status).toBe(200);
    // A later question's answer marks that every delivery has been handled.
    await ask('what is MIG');
    expect(answersWith('vscode')).toHaveLength(1);
    expect(h.bot.hasLine(/already answered/)).toBe(true);
  });

  it("bot messages, edits, deletes and the bot's own messages get no answer", async () => {
    await h.event(dm('how do I keep my container alive overnight', { bot_id: 'B0OTHER', subtype: 'bot_message', user: undefined }));
    await h.event(dm('how do I keep my container alive overnight', { bot_id: 'B0OTHER' }));
    await h.event(dm('what is the difference between an image and a container', { user: 'U0DS01BOT' }));
    await h.event(
      dm('', {
        subtype: 'message_changed',
        user: undefined,
        message: { type: 'message', user: ALICE.slack_id, text: 'cuda out of memory error', ts: '1700000000.000100' },
        previous_message: { type: 'message', user: ALICE.slack_id, text: 'cuda oom', ts: '1700000000.000100' },
      }),
    );
    await h.event(dm('', { subtype: 'message_deleted', user: undefined, deleted_ts: '1700000000.000100' }));
    await h.event(dm('cuda out of memory error', { thread_ts: '1690000000.000001', parent_user_id: 'U0SOMEONE' }));
    const marker = await ask('my disk is full');
    expect(messageText(marker.args)).toContain(title('disk-space'));
    expect(answersWith('keep-alive')).toHaveLength(0);
    expect(answersWith('images-vs-containers')).toHaveLength(0);
    expect(answersWith('cuda-errors')).toHaveLength(0);
  });

  it('a question asked in a thread is answered in that thread', async () => {
    const parent = '1699999999.000042';
    const answer = await ask('my disk is full', { thread_ts: parent, parent_user_id: ALICE.slack_id });
    expect(answer.args.thread_ts).toBe(parent);
    expect(messageText(answer.args)).toContain(title('disk-space'));
  });

  it('right after a retirement, the answers name her container, the limit, and the lost packages with [Add to image]', async () => {
    await recordRetirement(r, ALICE.slack_id, {
      project: 'demo',
      container: 'demo._.1001',
      host: 'gpu1',
      reason: 'idle',
      at: new Date().toISOString(),
      lostPackages: ['torchvision', 'einops'],
    });
    const packages = await ask('why did my packages disappear?');
    const text = messageText(packages.args);
    expect(text).toContain(title('packages-and-the-image'));
    expect(text).toContain('`torchvision`');
    expect(text).toContain('`einops`');
    const add = buttonsOf(packages.args).find((b) => b.action_id === 'image_update_open');
    expect(add).toBeTruthy();
    expect(JSON.parse(add!.value)).toEqual({ project: 'demo', python: ['torchvision', 'einops'] });

    const stopped = messageText((await ask('why was my container stopped?')).args);
    expect(stopped).toMatch(/`demo` on `gpu1` was retired by the \*idle timeout\*/);
  });

  it("a hostile 40 000-character DM (Slack's maximum) is answered with the cap sentence, and the bot keeps answering", async () => {
    const hostile = 'x: command not '.repeat(3000).slice(0, 40_000);
    const answer = await ask(hostile);
    expect(messageText(answer.args)).toMatch(/^Your message was very long \(40,000 characters\), so I only read/);
    const after = await ask('how do I open jupyter lab in my container?');
    expect(messageText(after.args)).toContain(title('jupyter'));
  });

  it('about her: a GPU question says how many GPUs are free now; a runtime question lists her running container and when its runtime ends', async () => {
    const createdAt = new Date(Date.now() - 3_600_000).toISOString();
    const snap: HostSnapshot = HostSnapshot.parse({
      hostId: 'gpufaq',
      updatedAt: new Date().toISOString(),
      gpuMode: 'fake',
      gpus: [
        { slot: '0', uuid: 'GPU-faq-0', name: 'Fake GPU', gpuEq: 1, holder: { container: 'faqdemo._.1001', user: 'alice' } },
        { slot: '1', uuid: 'GPU-faq-1', name: 'Fake GPU', gpuEq: 1, holder: null },
      ],
      containers: [
        { name: 'faqdemo._.1001', user: 'alice', project: 'faqdemo', state: 'running', image: 'ds01-1001/faqdemo:latest', gpuUuids: ['GPU-faq-0'], createdAt, protected: false },
        { name: 'bobfaq._.1002', user: 'bob', project: 'bobfaq', state: 'running', image: 'ds01-1002/bobfaq:latest', gpuUuids: [], createdAt, protected: false },
      ],
      images: [],
    });
    await writeHostSnapshot(r, snap);
    try {
      const gpus = messageText((await ask('is there a GPU free right now? how many gpus does ds01 have')).args);
      expect(gpus).toMatch(/Right now (\d+ GPUs? (is|are) free, out of \d+|all \d+ GPUs are taken)/);
      const runtime = messageText((await ask('what is the maximum runtime of my container?')).args);
      expect(runtime).toContain('Your containers running now:');
      expect(runtime).toMatch(/`faqdemo` on `gpufaq`, started .+; its maximum runtime runs out around /);
      expect(runtime).not.toContain('bobfaq'); // only her own containers
    } finally {
      await r.srem(RedisKey.hostsIndex, 'gpufaq');
      await r.del(RedisKey.host('gpufaq'));
    }
  });

  it('an off-topic question: not sure, the three closest topics as buttons, and how to reach the admins; a topic button answers it', async () => {
    const unsure = await ask('what is the capital of France');
    const text = messageText(unsure.args);
    expect(text).toMatch(/not sure/i);
    expect(text).toContain('#ds01-help');
    const topics = buttonsOf(unsure.args).filter((b) => b.action_id === 'faq_topic');
    expect(topics).toHaveLength(3);

    const picked = topics[1]!;
    const mark = h.slack.calls.length;
    const res = await h.interact({
      type: 'block_actions',
      token: 'deprecated-verification-token',
      api_app_id: 'A0DS01BOT',
      team: { id: 'T0DS01', domain: 'ds01' },
      user: { id: ALICE.slack_id, username: 'alice', team_id: 'T0DS01' },
      trigger_id: '1.2.3',
      container: { type: 'message', message_ts: '1700000500.000100', channel_id: D0ALICE, is_ephemeral: false },
      channel: { id: D0ALICE, name: 'directmessage' },
      message: { type: 'message', user: 'U0DS01BOT', bot_id: 'B0DS01BOT', ts: '1700000500.000100', text: unsure.args.text, blocks: unsure.args.blocks },
      response_url: h.slack.responseUrl(),
      actions: [{ type: 'button', action_id: 'faq_topic', block_id: picked.block_id, value: picked.value, action_ts: '1700000501.000000' }],
    });
    expect(res.status).toBe(200);
    const answer = await next(mark, (c) => postedIn(D0ALICE, c), 'the answer for the picked topic');
    expect(messageText(answer.args)).toContain(title(picked.value));
  });

  it('[Not really] is stored with the question, logged, and thanked in place; an admin lists it with `/ds01 help feedback`, others get an FAQ answer', async () => {
    const question = 'how do I keep my container alive overnight';
    const answer = await ask(question);
    const no = buttonsOf(answer.args).find((b) => b.action_id === 'faq_helpful_no')!;
    expect(no.value).toBe('keep-alive');
    const messageTs = '1700000600.000100';
    const mark = h.slack.calls.length;
    await h.interact({
      type: 'block_actions',
      token: 'deprecated-verification-token',
      api_app_id: 'A0DS01BOT',
      team: { id: 'T0DS01', domain: 'ds01' },
      user: { id: ALICE.slack_id, username: 'alice', team_id: 'T0DS01' },
      trigger_id: '1.2.4',
      container: { type: 'message', message_ts: messageTs, channel_id: D0ALICE, is_ephemeral: false },
      channel: { id: D0ALICE, name: 'directmessage' },
      message: { type: 'message', user: 'U0DS01BOT', bot_id: 'B0DS01BOT', ts: messageTs, text: answer.args.text, blocks: answer.args.blocks },
      response_url: h.slack.responseUrl(),
      actions: [{ type: 'button', action_id: 'faq_helpful_no', block_id: no.block_id, value: no.value, action_ts: '1700000601.000000' }],
    });
    const updated = await next(mark, (c) => c.method === 'chat.update' && c.args.ts === messageTs && c.args.channel === D0ALICE, 'the thanks in place of the buttons');
    const after = messageText(updated.args);
    expect(after).toMatch(/didn't help/);
    expect(after).toContain(title('keep-alive')); // the answer itself stays
    expect(buttonsOf(updated.args).some((b) => b.action_id.startsWith('faq_helpful'))).toBe(false);

    const stored = (await r.lrange(RedisKey.faqFeedback, 0, -1)).map((s) => parseFeedback(s));
    expect(stored).toEqual([expect.objectContaining({ topicId: 'keep-alive', question, helpful: false, slackUserId: ALICE.slack_id })]);
    await h.bot.waitForLine(/FAQ answer did not help/);

    const admin = await h.slash(ADMIN, 'help feedback');
    const list = messageText((await h.responseTo(admin.responseUrl)).args);
    expect(list).toContain(question);
    expect(list).toContain(title('keep-alive'));

    const bob = await h.slash(BOB, 'help feedback');
    const bobs = messageText((await h.responseTo(bob.responseUrl)).args);
    expect(bobs).not.toContain(question);
    expect(bobs).toMatch(/not sure|Fix it:/);
  });

  it('opening the App Home publishes her containers, images, GPUs and the most asked questions, with the quick actions', async () => {
    const snap: HostSnapshot = HostSnapshot.parse({
      hostId: 'gpuhome',
      updatedAt: new Date().toISOString(),
      gpuMode: 'fake',
      gpus: [{ slot: '0', uuid: 'GPU-home-0', name: 'Fake GPU', gpuEq: 1, holder: { container: 'demo._.1001', user: 'alice' } }],
      containers: [
        {
          name: 'demo._.1001',
          user: 'alice',
          project: 'demo',
          state: 'running',
          image: 'ds01-1001/demo:latest',
          gpuUuids: ['GPU-home-0'],
          createdAt: new Date().toISOString(),
          protected: false,
        },
        { name: 'secret._.1002', user: 'bob', project: 'secret', state: 'running', image: 'ds01-1002/secret:latest', gpuUuids: [], createdAt: null, protected: false },
      ],
      images: [
        { user: 'alice', uid: 1001, project: 'demo', image: 'ds01-1001/demo:latest', createdAt: new Date().toISOString() },
        { user: 'alice', uid: 1001, project: 'nlp', image: 'ds01-1001/nlp:latest', createdAt: new Date().toISOString() },
      ],
    });
    await writeHostSnapshot(r, snap);

    const mark = h.slack.calls.length;
    await h.openHome(ALICE, 'Ev0HOME0001');
    const published = await next(mark, (c) => c.method === 'views.publish' && c.args.user_id === ALICE.slack_id, 'the App Home');
    const view = published.args.view as { type: string; blocks: unknown[] };
    expect(view.type).toBe('home');
    const text = messageText(view as unknown as Record<string, unknown>);
    expect(text).toContain('`demo` is *running* on `gpuhome`, GPU 0');
    expect(text).not.toContain('secret');
    expect(text).toContain('`gpuhome`: 0 of 1 GPU free');
    expect(text).toMatch(/`gpu1`: \d of 2 GPUs free/);
    const buttons = buttonsOf(view as unknown as Record<string, unknown>);
    expect(buttons.filter((b) => b.action_id === 'home_retire').map((b) => b.value)).toEqual(['demo']);
    expect(
      buttons
        .filter((b) => b.action_id === 'home_launch')
        .map((b) => b.value)
        .sort(),
    ).toEqual(['demo', 'nlp']);
    expect(buttons.filter((b) => b.action_id === 'image_update_open').map((b) => JSON.parse(b.value))).toContainEqual({ project: 'nlp' });
    const asked = buttons.filter((b) => b.action_id === 'faq_topic').map((b) => b.value);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.length).toBeLessThanOrEqual(5);
    expect(asked).toContain('disk-space'); // asked twice above

    // [Launch] on the Home tab runs /ds01 launch; what it says arrives as a DM.
    const launchMark = h.slack.calls.length;
    await h.interact({
      type: 'block_actions',
      token: 'deprecated-verification-token',
      api_app_id: 'A0DS01BOT',
      team: { id: 'T0DS01', domain: 'ds01' },
      user: { id: ALICE.slack_id, username: 'alice', team_id: 'T0DS01' },
      trigger_id: '1.2.5',
      container: { type: 'view', view_id: 'V0HOME' },
      view: { id: 'V0HOME', type: 'home', blocks: view.blocks },
      actions: [{ type: 'button', action_id: 'home_launch', block_id: 'b', value: 'nlp', action_ts: '1700000701.000000' }],
    });
    // gpuhome has the image but no free GPU; gpu1 has room, so the launch goes there.
    const queued = await next(launchMark, (c) => postedIn(ALICE.slack_id, c) && /Launch of `nlp` queued on gpu1/.test(messageText(c.args)), 'the launch reply as a DM');
    expect(queued).toBeTruthy();

    // A most-asked question on the Home tab is answered in the DM with the bot.
    const topicMark = h.slack.calls.length;
    await h.interact({
      type: 'block_actions',
      token: 'deprecated-verification-token',
      api_app_id: 'A0DS01BOT',
      team: { id: 'T0DS01', domain: 'ds01' },
      user: { id: ALICE.slack_id, username: 'alice', team_id: 'T0DS01' },
      trigger_id: '1.2.7',
      container: { type: 'view', view_id: 'V0HOME' },
      view: { id: 'V0HOME', type: 'home', blocks: view.blocks },
      actions: [{ type: 'button', action_id: 'faq_topic', block_id: 'c', value: 'disk-space', action_ts: '1700000702.000000' }],
    });
    const answered = await next(topicMark, (c) => postedIn(ALICE.slack_id, c) && messageText(c.args).includes(title('disk-space')), 'the most-asked answer as a DM');
    expect(buttonsOf(answered.args).map((b) => b.action_id)).toEqual(['faq_helpful_yes', 'faq_helpful_no']);
  });

  it('`/ds01 help why did my packages disappear` answers via response_url; a vote on that ephemeral answer replaces it', async () => {
    const res = await h.slash(ALICE, 'help why did my packages disappear');
    const reply = await h.responseTo(res.responseUrl);
    expect(reply.args.response_type).toBe('ephemeral');
    const text = messageText(reply.args);
    expect(text).toContain(title('packages-and-the-image'));
    expect(text).toContain('`torchvision`');
    expect(buttonsOf(reply.args).some((b) => b.action_id === 'image_update_open')).toBe(true);

    const yes = buttonsOf(reply.args).find((b) => b.action_id === 'faq_helpful_yes')!;
    const responseUrl = h.slack.responseUrl();
    await h.interact({
      type: 'block_actions',
      token: 'deprecated-verification-token',
      api_app_id: 'A0DS01BOT',
      team: { id: 'T0DS01', domain: 'ds01' },
      user: { id: ALICE.slack_id, username: 'alice', team_id: 'T0DS01' },
      trigger_id: '1.2.6',
      container: { type: 'message', message_ts: '1700000800.000100', channel_id: 'C0GENERAL', is_ephemeral: true },
      channel: { id: 'C0GENERAL', name: 'general' },
      response_url: responseUrl,
      actions: [{ type: 'button', action_id: 'faq_helpful_yes', block_id: yes.block_id, value: yes.value, action_ts: '1700000801.000000' }],
    });
    const replaced = await h.responseTo(new URL(responseUrl).pathname);
    expect(replaced.args.replace_original).toBe(true);
    expect(messageText(replaced.args)).toMatch(/Glad it helped/);
    expect(messageText(replaced.args)).toContain(title('packages-and-the-image'));
    const votes = (await r.lrange(RedisKey.faqFeedback, 0, -1)).map((s) => parseFeedback(s));
    expect(votes[0]).toMatchObject({ topicId: 'packages-and-the-image', question: 'why did my packages disappear', helpful: true });
  });
});

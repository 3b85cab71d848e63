import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeAnswer, type UserContext } from '../../src/faq/answer.js';
import { buildFaqIndex } from '../../src/faq/engine.js';
import { pct, QuestionSetSchema, scoreSet } from '../../src/faq/evaluate.js';
import { loadDeclines, loadKnowledgeBase } from '../../src/faq/knowledge-base.js';
import { capQuestion, MAX_QUESTION_CHARS, MAX_TOKEN_CHARS, tokensOf } from '../../src/faq/question.js';
import { ERROR_SIGNATURES, matchSignature } from '../../src/faq/signatures.js';
import { isEnglishWord } from '../../src/faq/spelling.js';
import { splitWords } from '../../src/faq/search.js';

/**
 * "Ask DS01" quality (issue 11) and its safety against hostile DMs (issue 8, finding 4). The
 * development set (test/faq/dev.yaml) has floors here; the held-out set is never read by a test.
 */

const topics = loadKnowledgeBase();
const index = buildFaqIndex();
const ctx: UserContext = { adminContact: '<#C0DS01HELP|ds01-help>' };
const devSet = QuestionSetSchema.parse(parse(readFileSync(new URL('./dev.yaml', import.meta.url), 'utf8')));

describe('every topic answers the questions it lists', () => {
  for (const topic of topics) {
    it(`${topic.id}`, () => {
      const wrong = topic.questions
        .map((q) => ({ q, r: index.ask(q) }))
        .filter(({ r }) => !(r.confident && r.topic?.id === topic.id))
        .map(({ q, r }) => `"${q}" -> ${r.confident ? r.topic?.id : `unsure (closest ${r.alternatives[0]?.id})`}`);
      expect(wrong).toEqual([]);
    });
  }

  it('the sample questions of each decline (general Python, your own laptop, ML theory) get no confident answer', () => {
    const answered = loadDeclines()
      .flatMap((d) => d.questions)
      .map((q) => ({ q, r: index.ask(q) }))
      .filter(({ r }) => r.confident)
      .map(({ q, r }) => `"${q}" -> ${r.topic?.id}`);
    expect(answered).toEqual([]);
  });

  it('every related topic and every error signature names a topic that exists', () => {
    const ids = new Set(topics.map((t) => t.id));
    expect(topics.flatMap((t) => t.related ?? []).filter((id) => !ids.has(id))).toEqual([]);
    expect(ERROR_SIGNATURES.map((s) => s.topic).filter((id) => !ids.has(id))).toEqual([]);
  });
});

describe('development question set (test/faq/dev.yaml)', () => {
  const score = scoreSet(index, devSet);
  const report = score.misses.map((m) => `  ${m.via}: ${JSON.stringify(m.expected)} -> ${m.got}: ${m.q.slice(0, 100)}`).join('\n');

  it("is big enough and in users' voices: at least 80 on-topic and 15 off-topic questions", () => {
    expect(devSet.on_topic.length).toBeGreaterThanOrEqual(80);
    expect(devSet.off_topic.length).toBeGreaterThanOrEqual(15);
  });

  // Floors set just under what the engine scores today (93.9 % correct, 1.2 % wrong, 100 % declined),
  // so a change that makes answers worse fails here.
  it('answers at least 90% correctly', () => {
    expect(pct(score.correct, score.onTopic), `misses:\n${report}`).toBeGreaterThanOrEqual(90);
  });

  it('is confidently wrong on at most 2.5% (two of 82)', () => {
    expect(pct(score.wrong, score.onTopic), `misses:\n${report}`).toBeLessThanOrEqual(2.5);
  });

  it('declines at least 93% of the off-topic questions (near-domain traps included)', () => {
    expect(pct(score.declined, score.offTopic), `misses:\n${report}`).toBeGreaterThanOrEqual(93);
  });
});

describe('layers', () => {
  it('an exact error signature decides the topic, whatever generic words surround it', () => {
    const cases: Array<[string, string]> = [
      ['the dataset loader said RuntimeError: CUDA out of memory. Tried to allocate 20 MiB', 'cuda-errors'],
      ["my data pipeline died: ModuleNotFoundError: No module named 'polars'", 'packages-and-the-image'],
      ['permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock', 'docker-access'],
      ['saving my dataset failed: No space left on device', 'disk-space'],
      ['Bind for 0.0.0.0:8888 failed: port is already allocated', 'ports-and-tunnels'],
      ['IDLE CONTAINER WARNING\nContainer: thesis._.1001\nStatus: IDLE (no activity detected)', 'idle-warning'],
      ['CONTAINER STOPPED — RUNTIME LIMIT', 'runtime-limit-stop'],
      ['GPU Limit Reached: You have 2 GPU(s) allocated, which is your maximum of 2.', 'quotas-and-queue'],
      ['⚠ Storage Almost Full', 'disk-space'],
      ['Container Limit Reached: You have 3 containers, which is your maximum of 3.', 'container-limit-reached'],
      ['nvidia-smi: command not found', 'cuda-errors'],
      ['bash: container-deploy: command not found', 'command-not-found'],
      ['python train.py\nKilled', 'memory-limits'],
      ['CONTAINER AUTO-STOPPED\nContainer: thesis._.1001\nReason: Idle timeout reached', 'auto-stopped-container'],
      ['Added to GPU queue at position 2', 'quotas-and-queue'],
      ['WARNING: UNPROTECTED PRIVATE KEY FILE! Permissions 0644 for id_ed25519 are too open.', 'ssh-key-problems'],
      ['client_loop: send disconnect: Broken pipe', 'ssh-connection-drops'],
      ['wget https://example.com/data.zip: Connection refused', 'datasets-and-downloads'],
      ['Error: manifest for henrycgbaker/aime-pytorch:2.8.0 not found', 'image-build-failures'],
    ];
    for (const [q, topic] of cases) {
      const r = index.ask(q);
      expect({ q, via: r.via, topic: r.topic?.id }).toEqual({ q, via: 'signature', topic });
    }
    expect(matchSignature('how do I run jupyter')).toBeUndefined();
    expect(matchSignature('my container was killed overnight')).toBeUndefined(); // "Killed" counts only as a line of its own
  });

  it('names what it recognised in the answer', () => {
    const answer = composeAnswer(index.ask('torch.OutOfMemoryError: CUDA out of memory'), ctx);
    expect(answer.text).toMatch(/^That looks like \*CUDA out of memory\*\./);
  });

  it('judges a rambling message by its best sentence', () => {
    const q =
      "hey, hope you're well! so this is a bit of a long story. I've been working on my thesis for weeks and my supervisor is " +
      'getting impatient. anyway. how do I make a pip install stick so it is still there after I relaunch? thanks so much';
    const r = index.ask(q);
    expect(r.confident).toBe(true);
    expect(r.topic?.id).toBe('packages-and-the-image');
  });

  it('answers when the two closest topics are related and both right, instead of abstaining', () => {
    const r = index.ask('I got an IDLE CONTAINER WARNING, what should I do?');
    expect(r.confident).toBe(true);
    const pause = index.ask('whats the difference between pausing and stopping a container');
    expect(pause.topic?.id).toBe('pause-stop-retire');
  });

  it('declines near-domain traps with a reason, and still offers topics, doc sections and the admins when unsure', () => {
    const tuple = index.ask("what's the difference between a list and a tuple in python?");
    expect(tuple.confident).toBe(false);
    expect(tuple.via).toBe('declined');
    expect(composeAnswer(tuple, ctx).text).toMatch(/general Python question/);
    const unsure = index.ask('the thing with the stuff is weird since the update of the scheduler');
    expect(unsure.confident).toBe(false);
    const answer = composeAnswer(unsure, ctx);
    expect(answer.text).toMatch(/not sure/);
    expect(answer.text).toContain(ctx.adminContact);
    // Scripting itself has a topic now (scripting-ds01); combining short flags still has none.
    const scripting = index.ask('which short flags can I combine when launching containers in a loop');
    expect(scripting.confident).toBe(false);
    expect(scripting.sections.map((s) => s.page)).toContain('docs/intermediate/cli-flags.md');
    expect(composeAnswer(scripting, ctx).text).toMatch(/parts of the DS01 docs look related:\n• .+: `docs\/[\w./-]+\.md#[\w-]+`/);
  });
});

describe('spelling', () => {
  it('never rewrites ordinary English words into knowledge-base words', () => {
    for (const word of ['lunch', 'taken', 'touch', 'token', 'launch', 'weekend']) expect(isEnglishWord(word)).toBe(true);
    for (const q of ['i went to lunch and it was gone', 'the gpu was taken', 'touch the keepalive file']) {
      const words = index.analyse(q).words;
      expect(words.filter((w) => w.corrected).map((w) => w.word)).toEqual([]);
    }
    const lunch = index.analyse('i went to lunch').words.map((w) => w.word);
    expect(lunch).toContain('lunch');
    expect(lunch).not.toContain('launch');
  });

  it('still corrects typos that are not English', () => {
    const words = index.analyse('my contianer dissapeared and the pakages too').words;
    expect(words.map((w) => w.word)).toEqual(expect.arrayContaining(['container', 'disappeared']));
    expect(words.some((w) => w.corrected)).toBe(true);
  });
});

describe('one DM cannot stall the bot (issue 8, finding 4)', () => {
  const huge = (unit: string, chars = 200_000) => unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
  const hostile = [
    huge(' '),
    huge('a-'),
    huge('a-a-a- '),
    huge('x: command not '),
    huge('x: command not found '),
    huge('a'),
    huge('a._.'),
    huge('ds01-1/'),
    huge('stop from '),
    huge('keep ', 199_988) + 'from waiting',
    huge('why? '),
    huge('\n'),
    huge('é😀'),
  ];

  it('the cap is applied first: the engine only ever sees MAX_QUESTION_CHARS, head and tail kept', () => {
    for (const text of hostile) {
      const capped = capQuestion(text);
      expect(capped.text.length).toBeLessThanOrEqual(MAX_QUESTION_CHARS);
      expect(capped.truncated).toBe(true);
      expect(capped.originalLength).toBe(200_000);
    }
    const short = capQuestion('how do I launch?');
    expect(short).toEqual({ text: 'how do I launch?', truncated: false, originalLength: 16 });
    // A capped question gives the same answer as the raw one: ask() caps before it does anything else.
    const raw = `${huge('log line ', 100_000)}\nRuntimeError: CUDA out of memory`;
    expect(index.ask(raw).topic?.id).toBe('cuda-errors'); // the tail, where the error is, is kept
    expect(index.ask(capQuestion(raw)).topic?.id).toBe('cuda-errors');
  });

  it('every word the engine looks at is a short token', () => {
    expect(tokensOf(`short ${'y'.repeat(MAX_TOKEN_CHARS + 1)} ok`)).toEqual(['short', 'ok']);
    for (const text of hostile) {
      for (const w of splitWords(capQuestion(text).text)) expect(w.length).toBeLessThanOrEqual(MAX_TOKEN_CHARS * 2);
    }
  });

  it('answers each hostile 200 000-character DM with the cap sentence and an answer, never an exception', () => {
    for (const text of hostile) {
      const result = index.ask(text);
      expect(result.truncatedFrom).toBe(200_000);
      const answer = composeAnswer(result, ctx);
      expect(answer.text).toMatch(/^Your message was very long \(200,000 characters\), so I only read/);
      expect(answer.blocks.length).toBeGreaterThan(1);
    }
  });

  it('random junk of any length never throws (seeded fuzz)', () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = ['a', '-', ' ', '.', '_', ':', '\n', 'x', '/', "'", 'é', '😀', 'command not found', '._.', 'ds01-', 'CUDA', '\u0000'];
    for (let i = 0; i < 200; i++) {
      const len = Math.floor(rand() * 6000);
      let text = '';
      while (text.length < len) text += alphabet[Math.floor(rand() * alphabet.length)];
      const result = index.ask(text);
      expect(typeof result.confident).toBe('boolean');
      expect(composeAnswer(result, ctx).text.length).toBeGreaterThan(0);
    }
  });
});

describe("about you: answers use the asker's own situation", () => {
  it('a GPU question says how many GPUs are free right now', () => {
    const r = index.ask('how many gpus does the server have');
    const topicId = r.topic?.id ?? '';
    expect(['gpu-allocation', 'quotas-and-queue']).toContain(topicId);
    const answer = composeAnswer(r, { ...ctx, gpusNow: { free: 1, total: 4, hosts: 1 } });
    expect(answer.text).toContain('Right now 1 GPU is free, out of 4.');
    const none = composeAnswer(r, { ...ctx, gpusNow: { free: 0, total: 4, hosts: 1 } });
    expect(none.text).toContain('all 4 GPUs are taken');
  });

  it('a runtime question lists her running containers and when their maximum runtime runs out', () => {
    const r = index.ask('how long can my container run before it is stopped?');
    expect(r.confident).toBe(true);
    const answer = composeAnswer(r, {
      ...ctx,
      ownContainers: [{ project: 'thesis', host: 'gpu1', since: '2025-03-04T10:00:00Z', runtimeEndsAt: '2025-03-05T10:00:00Z' }],
    });
    expect(answer.text).toContain('Your containers running now:');
    expect(answer.text).toContain('`thesis` on `gpu1`, started 2025-03-04 10:00 UTC; its maximum runtime runs out around 2025-03-05 10:00 UTC.');
    const jupyter = composeAnswer(index.ask('how do I open jupyter lab'), { ...ctx, ownContainers: [{ project: 'thesis', host: 'gpu1', since: null, runtimeEndsAt: null }] });
    expect(jupyter.text).not.toContain('Your containers running now');
  });
});

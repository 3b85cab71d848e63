import { existsSync, readFileSync } from 'node:fs';
import { DS01_REFERENCE } from '../support/paths.js';
import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { composeAnswer, type Answer, type Block, type Button, type UserContext } from '../../src/faq/answer.js';
import { buildFeedback, feedbackFromAction, parseFeedback, serializeFeedback } from '../../src/faq/feedback.js';
import { loadKnowledgeBase, parseKnowledgeBase } from '../../src/faq/knowledge-base.js';
import { buildFaqIndex } from '../../src/faq/engine.js';
import { QuestionSetSchema as DevSetSchema } from '../../src/faq/evaluate.js';

const QuestionSetSchema = z.object({
  on_topic: z.array(z.object({ q: z.string().min(1), topic: z.string(), also: z.array(z.string()).optional() })).min(90),
  off_topic: z.array(z.string().min(1)).min(25),
});
const questionSet = QuestionSetSchema.parse(parse(readFileSync(new URL('./questions.yaml', import.meta.url), 'utf8')));
const topics = loadKnowledgeBase();
const index = buildFaqIndex();
const devSet = DevSetSchema.parse(parse(readFileSync(new URL('./dev.yaml', import.meta.url), 'utf8')));
const DOCS_COPY = DS01_REFERENCE;

const REQUIRED_TOPICS = [
  'images-vs-containers',
  'packages-and-the-image',
  'workspace-and-persistence',
  'retirement',
  'idle-and-runtime-limits',
  'keep-alive',
  'gpu-allocation',
  'quotas-and-queue',
  'mig',
  'jupyter',
  'vscode',
  'image-build-failures',
  'cuda-errors',
  'disk-space',
  'getting-help',
];

const ctx: UserContext = { adminContact: '<#C0DS01HELP|ds01-help>' };

function buttons(answer: Answer): Button[] {
  return answer.blocks.flatMap((b: Block) => (b.type === 'actions' ? b.elements : b.type === 'section' && b.accessory ? [b.accessory] : []));
}

function topicById(id: string) {
  const topic = topics.find((t) => t.id === id);
  if (!topic) throw new Error(`no topic ${id}`);
  return topic;
}

describe('FAQ knowledge base (topics.yaml)', () => {
  it('loads, passes the schema and contains every required topic', () => {
    const ids = topics.map((t) => t.id);
    expect(ids).toEqual(expect.arrayContaining(REQUIRED_TOPICS));
    expect(new Set(ids).size).toBe(ids.length);
    expect(loadKnowledgeBase()).toBe(topics); // cached
  });

  it('rejects a non-kebab id, an unknown /ds01 subcommand, a bad read_more path and duplicate ids', () => {
    const topic = {
      id: 'ok-topic',
      title: 'A topic',
      keywords: ['a', 'b', 'c'],
      questions: ['first question?', 'second question?', 'third question?'],
      answer: 'A sufficiently long answer sentence for the schema. And a second sentence to be safe.',
      fix_command: '/ds01 status',
      cli_equivalent: 'container list',
      read_more: 'docs/quickstart.md',
    };
    const yaml = (t: object[]) => JSON.stringify({ topics: t });
    expect(parseKnowledgeBase(yaml([topic]))).toHaveLength(1);
    expect(() => parseKnowledgeBase(yaml([{ ...topic, id: 'Not_Kebab' }]))).toThrow(/kebab/);
    expect(() => parseKnowledgeBase(yaml([{ ...topic, fix_command: '/ds01 reboot-server' }]))).toThrow(/fix_command/);
    expect(() => parseKnowledgeBase(yaml([{ ...topic, read_more: 'https://example.com' }]))).toThrow(/read_more/);
    expect(() => parseKnowledgeBase(yaml([topic, topic]))).toThrow(/duplicate topic id "ok-topic"/);
    expect(() => parseKnowledgeBase(yaml([{ ...topic, answer: undefined }]))).toThrow(/answer/);
  });

  it('keeps every answer to 2-5 sentences', () => {
    for (const t of topics) {
      const prose = t.answer.replace(/`[^`]*`/g, 'CODE').replace(/\be\.g\./g, 'eg');
      const sentences = prose.split(/[.!?](?:\s|$)/).filter((s) => s.trim().length > 0);
      expect(sentences.length, `${t.id}: ${sentences.length} sentences`).toBeGreaterThanOrEqual(2);
      expect(sentences.length, `${t.id}: ${sentences.length} sentences`).toBeLessThanOrEqual(5);
    }
  });

  it('points read_more at pages of the DS01 docs (checked when the reference copy is present)', () => {
    const missing = existsSync(DOCS_COPY) ? topics.filter((t) => !existsSync(`${DOCS_COPY}/${t.read_more.replace(/#.*$/, '')}`)).map((t) => t.read_more) : [];
    expect(missing).toEqual([]);
  });

  it('question sets only expect topics that exist, and every topic is asked about in one of them', () => {
    const ids = new Set(topics.map((t) => t.id));
    const expected = [...questionSet.on_topic.flatMap((q) => [q.topic, ...(q.also ?? [])]), ...devSet.on_topic.flatMap((q) => q.topics)];
    expect(expected.filter((id) => !ids.has(id))).toEqual([]);
    for (const id of ids) expect(expected.includes(id), `no question for ${id}`).toBe(true);
  });
});

describe('FaqIndex retrieval over test/faq/questions.yaml', () => {
  const outcomes = questionSet.on_topic.map(({ q, topic, also }) => {
    const result = index.ask(q);
    // The answer, or when unsure the first topic offered instead.
    const top = (result.confident ? result.topic?.id : result.alternatives[0]?.id) ?? '(none)';
    return { q, expected: topic, accepted: [topic, ...(also ?? [])], top, result };
  });

  it('answers with, or offers first, the expected topic for at least 95% of on-topic questions', () => {
    const misses = outcomes.filter((o) => !o.accepted.includes(o.top));
    const accuracy = 1 - misses.length / outcomes.length;
    console.info(`FAQ top-1 accuracy: ${(accuracy * 100).toFixed(1)}% of ${outcomes.length} questions`);
    const report = misses.map((m) => `  "${m.q}": expected ${m.expected}, got ${m.top}`).join('\n');
    expect(accuracy, `top-1 accuracy ${(accuracy * 100).toFixed(1)}%, misses:\n${report}`).toBeGreaterThanOrEqual(0.95);
  });

  it('never gives a confident answer with the wrong topic', () => {
    const wrong = outcomes
      .filter((o) => o.result.confident && !o.accepted.includes(o.result.topic?.id ?? ''))
      .map((o) => `"${o.q}": expected ${o.expected}, answered ${o.result.topic?.id}`);
    expect(wrong).toEqual([]);
  });

  it('answers at least 85% of on-topic questions confidently', () => {
    const unsure = outcomes.filter((o) => !o.result.confident).map((o) => o.q);
    const rate = 1 - unsure.length / outcomes.length;
    expect(rate, `not confident for:\n${unsure.join('\n')}`).toBeGreaterThanOrEqual(0.85);
  });

  it('never answers an off-topic question confidently', () => {
    const answered = questionSet.off_topic
      .map((q) => ({ q, result: index.ask(q) }))
      .filter(({ result }) => result.confident)
      .map(({ q, result }) => `"${q}" -> ${result.topic?.id} (score ${result.score.toFixed(1)})`);
    expect(answered).toEqual([]);
  });

  it('copes with typos, slang and synonyms', () => {
    expect(index.ask('my pakages dissapeared after i relaunched').topic?.id).toBe('packages-and-the-image');
    expect(index.ask('where r my fiels, container got nuked').alternatives.length).toBe(3);
    expect(index.ask('jupyterlab tunnle not working').topic?.id).toBe('jupyter');
    expect(index.ask('the box got killed for being inactive').topic?.id).toBe('idle-and-runtime-limits');
  });

  it('offers three alternatives that never repeat the chosen topic', () => {
    for (const q of ['where did my files go?', 'how do i keep my container alive', 'no space left on device']) {
      const result = index.ask(q);
      expect(result.confident).toBe(true);
      expect(result.alternatives).toHaveLength(3);
      expect(result.alternatives.map((t) => t.id)).not.toContain(result.topic?.id);
    }
  });

  it('returns no topic, score 0 and three starter topics for greetings and empty input', () => {
    for (const q of ['hello', '', '???', 'thanks!']) {
      const result = index.ask(q);
      expect(result).toMatchObject({ confident: false, topic: null, score: 0 });
      expect(result.alternatives).toHaveLength(3);
    }
  });
});

describe('composeAnswer', () => {
  const thesisRetired = {
    project: 'thesis',
    reason: 'idle' as const,
    at: '2025-03-04T14:05:00Z',
    lostPackages: ['einops==0.8.0', 'wandb==0.17.1'],
    host: 'ds01',
  };

  it('gives a confident answer with the explanation, Fix it, CLI, Read more and Did-this-help buttons', () => {
    const result = index.ask('why did my packages disappear?');
    const answer = composeAnswer(result, ctx);
    const topic = topicById('packages-and-the-image');
    expect(result.topic?.id).toBe(topic.id);
    expect(answer.text).toContain(topic.answer);
    expect(answer.text).toContain(`Fix it: \`${topic.fix_command}\``);
    expect(answer.text).toContain(`CLI: \`${topic.cli_equivalent}\``);
    expect(answer.text).toContain(`Read more: \`${topic.read_more}\``);
    expect(JSON.stringify(answer.blocks)).toContain('Did this help?');
    const feedback = buttons(answer).filter((b) => b.action_id.startsWith('faq_helpful_'));
    expect(feedback.map((b) => [b.action_id, b.value])).toEqual([
      ['faq_helpful_yes', topic.id],
      ['faq_helpful_no', topic.id],
    ]);
  });

  it('names the lost packages and offers [Add to image] with project and pins as the button value', () => {
    const older = { ...thesisRetired, project: 'old-exp', at: '2025-03-01T09:00:00Z', lostPackages: ['rich'] };
    const answer = composeAnswer(index.ask('ModuleNotFoundError: No module named einops'), {
      ...ctx,
      recentRetirements: [older, thesisRetired],
    });
    expect(answer.text).toContain('`einops==0.8.0`, `wandb==0.17.1`');
    expect(answer.text).toContain('`thesis`');
    const add = buttons(answer).find((b) => b.action_id === 'image_update_open');
    expect(add?.text.text).toBe('Add to image');
    expect(JSON.parse(add?.value ?? '{}')).toEqual({ project: 'thesis', python: ['einops==0.8.0', 'wandb==0.17.1'] });
  });

  it('offers no [Add to image] button when nothing was lost or the topic is unrelated', () => {
    const nothingLost = { ...thesisRetired, lostPackages: [] };
    const packages = composeAnswer(index.ask('why did my packages disappear?'), { ...ctx, recentRetirements: [nothingLost] });
    const jupyter = composeAnswer(index.ask('how do I run jupyter lab'), { ...ctx, recentRetirements: [thesisRetired] });
    for (const answer of [packages, jupyter]) {
      expect(buttons(answer).map((b) => b.action_id)).not.toContain('image_update_open');
    }
    expect(jupyter.text).not.toContain('thesis');
  });

  it('explains "why was my container stopped" with the limit, the container and the time', () => {
    const runtime = { ...thesisRetired, project: 'llm-finetune', reason: 'max_runtime' as const, at: '2025-03-03T08:00:00Z' };
    const result = index.ask('why was my container stopped?');
    expect(['retirement', 'idle-and-runtime-limits']).toContain(result.topic?.id);
    const answer = composeAnswer(result, { ...ctx, recentRetirements: [runtime, thesisRetired] });
    expect(answer.text).toMatch(/`thesis` on `ds01` was retired by the \*idle timeout\*.* on 2025-03-04 14:05 UTC/);
    expect(answer.text).toMatch(/`llm-finetune` on `ds01` was retired because it reached the \*maximum runtime\*.* on 2025-03-03 08:00 UTC/);
    expect(answer.text.indexOf('`thesis`')).toBeLessThan(answer.text.indexOf('`llm-finetune`')); // newest first
    const unix = Date.parse(thesisRetired.at) / 1000;
    expect(JSON.stringify(answer.blocks)).toContain(`<!date^${unix}^{date_short_pretty} at {time}|2025-03-04 14:05 UTC>`);
  });

  it('replies honestly when unsure: three topic buttons and the admin contact', () => {
    const result = index.ask('recipe for pancakes');
    const answer = composeAnswer(result, ctx);
    expect(result.confident).toBe(false);
    expect(answer.text).toMatch(/not sure/i);
    const topicButtons = buttons(answer).filter((b) => b.action_id === 'faq_topic');
    expect(topicButtons.map((b) => b.value)).toEqual(result.alternatives.map((t) => t.id));
    expect(topicButtons).toHaveLength(3);
    expect(answer.text).toContain(ctx.adminContact);
    expect(JSON.stringify(answer.blocks)).toContain(ctx.adminContact);
    expect(buttons(answer).map((b) => b.action_id)).not.toContain('faq_helpful_yes');
  });

  it('builds valid Block Kit: KnownBlock-compatible, unique action_ids per block, button values within 2000 chars', () => {
    const many = Array.from({ length: 400 }, (_, i) => `some-long-package-name-${i}==1.0.${i}`);
    const answers = [
      composeAnswer(index.ask('my pip packages are gone after retire'), {
        ...ctx,
        recentRetirements: [{ ...thesisRetired, lostPackages: many }],
      }),
      composeAnswer(index.ask('what is the meaning of life'), ctx),
    ];
    for (const answer of answers) {
      const known: KnownBlock[] = answer.blocks; // compile-time check against @slack/types
      expect(known.length).toBeGreaterThan(0);
      for (const block of answer.blocks) {
        if (block.type !== 'actions') continue;
        const ids = block.elements.map((e) => e.action_id);
        expect(new Set(ids).size).toBe(ids.length);
      }
      for (const b of buttons(answer)) expect(b.value.length).toBeLessThanOrEqual(2000);
    }
    const add = buttons(answers[0] as Answer).find((b) => b.action_id === 'image_update_open');
    const value = JSON.parse(add?.value ?? '{}') as { python: string[] };
    expect(value.python.length).toBeGreaterThan(10);
    expect(value.python).toEqual(many.slice(0, value.python.length));
    expect((answers[0] as Answer).text).toMatch(/and \d+ more/);
  });

  it('escapes Slack control characters in project and package names', () => {
    const answer = composeAnswer(index.ask('why did my packages disappear?'), {
      ...ctx,
      recentRetirements: [{ ...thesisRetired, project: 'a<b>&c', lostPackages: ['<!channel>'] }],
    });
    expect(answer.text).toContain('`a&lt;b&gt;&amp;c`');
    expect(answer.text).not.toContain('<!channel>');
  });
});

describe('FAQ feedback records', () => {
  const at = new Date('2025-03-04T15:00:00Z');

  it('builds a record from a Did-this-help click and round-trips it through JSON', () => {
    const yes = feedbackFromAction({ actionId: 'faq_helpful_yes', value: 'keep-alive', question: ' keep it alive? ', slackUserId: 'U024BE7LH', at });
    expect(yes).toEqual({ topicId: 'keep-alive', question: 'keep it alive?', helpful: true, slackUserId: 'U024BE7LH', at: '2025-03-04T15:00:00.000Z' });
    const no = feedbackFromAction({ actionId: 'faq_helpful_no', value: 'mig', question: 'what is mig', slackUserId: 'W0123ABC', at });
    expect(no.helpful).toBe(false);
    expect(parseFeedback(serializeFeedback(yes))).toEqual(yes);
    expect(parseFeedback(JSON.parse(serializeFeedback(no)))).toEqual(no);
  });

  it('rejects unknown actions, bad user ids, bad topic ids and malformed stored records', () => {
    const base = { topicId: 'mig', question: 'q', helpful: true, slackUserId: 'U1', at };
    expect(() => feedbackFromAction({ actionId: 'faq_topic', value: 'mig', question: 'q', slackUserId: 'U1', at })).toThrow();
    expect(() => buildFeedback({ ...base, slackUserId: 'alice' })).toThrow();
    expect(() => buildFeedback({ ...base, topicId: 'Bad Topic' })).toThrow();
    expect(() => buildFeedback({ ...base, question: '   ' })).toThrow();
    expect(buildFeedback({ ...base, question: 'x'.repeat(5000) }).question).toHaveLength(2000);
    expect(() => parseFeedback('{"topicId":"mig"}')).toThrow();
    expect(() => parseFeedback('not json')).toThrow();
  });
});

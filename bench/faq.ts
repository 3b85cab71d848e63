import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { buildFaqIndex } from '../src/faq/engine.js';
import { type BlindSet, pct, readQuestionSet, scoreSet, type SetScore } from '../src/faq/evaluate.js';

export interface FaqSetResult {
  on_topic: number;
  correct_pct: number;
  abstained_pct: number;
  confidently_wrong_pct: number;
  off_topic: number;
  off_topic_declined_pct: number;
}

/** A blind set with `uncovered` questions (about DS01, but no topic answers them: "not sure" is right). */
export interface FaqBlindSetResult extends FaqSetResult {
  uncovered: number;
  uncovered_abstained_pct: number;
  /** Over every on-topic question, covered or not: right answers, and confident answers that were not right. */
  all_on_topic: number;
  all_correct_pct: number;
  all_confidently_wrong_pct: number;
}

function blindSummary(index: ReturnType<typeof buildFaqIndex>, set: BlindSet): FaqBlindSetResult {
  const covered = scoreSet(index, set);
  const answered = set.uncovered.filter((q) => index.ask(q).confident).length;
  const all = covered.onTopic + set.uncovered.length;
  return {
    ...summary(covered),
    uncovered: set.uncovered.length,
    uncovered_abstained_pct: pct(set.uncovered.length - answered, set.uncovered.length),
    all_on_topic: all,
    all_correct_pct: pct(covered.correct, all),
    all_confidently_wrong_pct: pct(covered.wrong + answered, all),
  };
}

export interface FaqBenchResult {
  name: string;
  questions: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  index_build_ms: number;
  /** Slowest ask() over hostile 200 000-character DMs (spaces, "a-a-a-", "x: command not" …). */
  hostile_200k_max_ms: number;
  dev: FaqSetResult;
  heldout: FaqSetResult;
  /** test/faq/dev-set4.yaml: written and labeled blind, scored once as held-out, then tuned on. */
  dev4: FaqBlindSetResult;
  /** test/faq/dev-set5.yaml: written and labeled blind, scored once as held-out, then tuned on. */
  dev5: FaqBlindSetResult;
  /** test/faq/heldout6.yaml: written and labeled blind, never tuned on. */
  heldout6: FaqBlindSetResult;
  regression: FaqSetResult;
}

const BUILD_RUNS = 10;
const ASK_ROUNDS = 20;

const read = (file: string): BlindSet => readQuestionSet(new URL(`../test/faq/${file}`, import.meta.url));

function summary(s: SetScore): FaqSetResult {
  return {
    on_topic: s.onTopic,
    correct_pct: pct(s.correct, s.onTopic),
    abstained_pct: pct(s.abstained, s.onTopic),
    confidently_wrong_pct: pct(s.wrong, s.onTopic),
    off_topic: s.offTopic,
    off_topic_declined_pct: pct(s.declined, s.offTopic),
  };
}

/**
 * Times FaqIndex construction and ask() over every question of the regression, development and
 * held-out sets (a fresh index each round, so the spelling memo starts cold), ask() on hostile
 * 200 000-character inputs, and scores the three sets. The held-out set is scored here and nowhere
 * else: it is never used for tuning (see test/faq/heldout.yaml).
 */
export async function benchFaq(opts: { rounds?: number; builds?: number } = {}): Promise<FaqBenchResult> {
  const regression = read('questions.yaml');
  const dev = read('dev.yaml');
  const heldout = read('heldout.yaml');
  const dev4 = read('dev-set4.yaml');
  const dev5 = read('dev-set5.yaml');
  const heldout6 = read('heldout6.yaml');
  const questions = [regression, dev, heldout, dev4, dev5, heldout6].flatMap((s) => [...s.on_topic.map((o) => o.q), ...s.off_topic]);

  const builds: number[] = [];
  for (let i = 0; i < (opts.builds ?? BUILD_RUNS); i++) {
    const t0 = performance.now();
    buildFaqIndex();
    builds.push(performance.now() - t0);
  }

  const warm = buildFaqIndex();
  for (const q of questions) warm.ask(q); // JIT warm-up, not measured

  const asks: number[] = [];
  for (let round = 0; round < (opts.rounds ?? ASK_ROUNDS); round++) {
    const index = buildFaqIndex();
    for (const q of questions) {
      const t0 = performance.now();
      index.ask(q);
      asks.push(performance.now() - t0);
    }
  }

  const huge = (unit: string) => unit.repeat(Math.ceil(200_000 / unit.length)).slice(0, 200_000);
  const hostile = [' ', 'a-', 'a-a-a- ', 'x: command not ', 'a', 'a._.', 'why? ', 'stop from '].map(huge);
  let hostileMax = 0;
  for (const text of hostile) {
    const t0 = performance.now();
    warm.ask(text);
    hostileMax = Math.max(hostileMax, performance.now() - t0);
  }

  return {
    name: 'faq',
    questions: questions.length,
    p50_ms: round3(percentile(asks, 50)),
    p95_ms: round3(percentile(asks, 95)),
    p99_ms: round3(percentile(asks, 99)),
    index_build_ms: round3(percentile(builds, 50)),
    hostile_200k_max_ms: round3(hostileMax),
    dev: summary(scoreSet(warm, dev)),
    heldout: summary(scoreSet(warm, heldout)),
    dev4: blindSummary(warm, dev4),
    dev5: blindSummary(warm, dev5),
    heldout6: blindSummary(warm, heldout6),
    regression: summary(scoreSet(warm, regression)),
  };
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchFaq(), null, 2));
}

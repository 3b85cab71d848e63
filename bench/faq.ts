import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadKnowledgeBase } from '../src/faq/knowledge-base.js';
import { FaqIndex } from '../src/faq/search.js';

export interface FaqBenchResult {
  name: string;
  questions: number;
  p50_ms: number;
  p95_ms: number;
  index_build_ms: number;
}

const BUILD_RUNS = 30;
const ASK_ROUNDS = 30;

const QuestionSetSchema = z.object({
  on_topic: z.array(z.object({ q: z.string() })),
  off_topic: z.array(z.string()),
});

/**
 * Times FaqIndex construction and ask() over every question in test/faq/questions.yaml. Each round
 * uses a fresh index so the spelling corrector's memo starts cold, as it would for new questions.
 */
export async function benchFaq(): Promise<FaqBenchResult> {
  const topics = loadKnowledgeBase();
  const raw = parse(readFileSync(new URL('../test/faq/questions.yaml', import.meta.url), 'utf8'));
  const set = QuestionSetSchema.parse(raw);
  const questions = [...set.on_topic.map((o) => o.q), ...set.off_topic];

  const builds: number[] = [];
  for (let i = 0; i < BUILD_RUNS; i++) {
    const t0 = performance.now();
    new FaqIndex(topics);
    builds.push(performance.now() - t0);
  }

  const warm = new FaqIndex(topics);
  for (const q of questions) warm.ask(q); // JIT warm-up, not measured

  const asks: number[] = [];
  for (let round = 0; round < ASK_ROUNDS; round++) {
    const index = new FaqIndex(topics);
    for (const q of questions) {
      const t0 = performance.now();
      index.ask(q);
      asks.push(performance.now() - t0);
    }
  }

  return {
    name: 'faq',
    questions: questions.length,
    p50_ms: round3(percentile(asks, 50)),
    p95_ms: round3(percentile(asks, 95)),
    index_build_ms: round3(percentile(builds, 50)),
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
  console.log(JSON.stringify(await benchFaq()));
}

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { FaqIndex, FaqResult } from './search.js';

/**
 * Scoring of a question set (test/faq/dev.yaml, test/faq/heldout.yaml): for on-topic questions,
 * correct (confident, with one of the right topics), abstained (not confident) or confidently
 * wrong; for off-topic ones, declined or not.
 */

export const QuestionSetSchema = z.object({
  on_topic: z.array(z.object({ q: z.string().min(1), topics: z.array(z.string()).min(1) })),
  off_topic: z.array(z.string().min(1)),
});
export type QuestionSet = z.infer<typeof QuestionSetSchema>;

/** A set written and labeled blind: `uncovered` questions are about DS01 but no topic answers them. */
export const BlindSetSchema = QuestionSetSchema.extend({ uncovered: z.array(z.string().min(1)).default([]) });
export type BlindSet = z.infer<typeof BlindSetSchema>;

/** The regression set's older shape (test/faq/questions.yaml): one `topic`, other right ones in `also`. */
const RegressionSetSchema = z.object({
  on_topic: z.array(z.object({ q: z.string().min(1), topic: z.string(), also: z.array(z.string()).optional() })),
  off_topic: z.array(z.string().min(1)),
});

/** Reads any question set file under test/faq, in either shape, as a blind set (no `uncovered` reads as none). */
export function readQuestionSet(path: string | URL): BlindSet {
  const data = parse(readFileSync(path, 'utf8')) as { on_topic?: Array<Record<string, unknown>> };
  if (data.on_topic?.some((o) => 'topic' in o)) {
    const r = RegressionSetSchema.parse(data);
    return { on_topic: r.on_topic.map((o) => ({ q: o.q, topics: [o.topic, ...(o.also ?? [])] })), off_topic: r.off_topic, uncovered: [] };
  }
  return BlindSetSchema.parse(data);
}

export interface SetScore {
  onTopic: number;
  correct: number;
  abstained: number;
  wrong: number;
  offTopic: number;
  declined: number;
  /** Each miss, for reading (abstained or wrong on-topic, answered off-topic). */
  misses: Array<{ q: string; expected: string[]; got: string; via: FaqResult['via'] }>;
}

export function scoreSet(index: FaqIndex, set: QuestionSet): SetScore {
  const score: SetScore = { onTopic: set.on_topic.length, correct: 0, abstained: 0, wrong: 0, offTopic: set.off_topic.length, declined: 0, misses: [] };
  for (const { q, topics } of set.on_topic) {
    const r = index.ask(q);
    if (r.confident && r.topic && topics.includes(r.topic.id)) score.correct++;
    else {
      if (r.confident) score.wrong++;
      else score.abstained++;
      score.misses.push({ q, expected: topics, got: r.confident ? (r.topic?.id ?? '?') : `(unsure; closest ${r.alternatives[0]?.id ?? '-'})`, via: r.via });
    }
  }
  for (const q of set.off_topic) {
    const r = index.ask(q);
    if (!r.confident) score.declined++;
    else score.misses.push({ q, expected: ['(off-topic)'], got: r.topic?.id ?? '?', via: r.via });
  }
  return score;
}

export const pct = (n: number, of: number): number => (of === 0 ? 0 : Math.round((1000 * n) / of) / 10);

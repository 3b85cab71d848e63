import { applyV8Flags } from '../../src/shared/v8-flags.js';

/**
 * Run with `--allow-natives-syntax --max-semi-space-size=1` (test/e2e/v8-flags.test.ts): does V8 start making a
 * busy allocation site's objects in the old generation? Argument `bot` applies the bot's V8
 * settings first, as main.ts does. One site makes objects that are all alive at each young
 * collection (as a burst's ack bodies are when a collection lands mid-burst); then it makes 100 more
 * and prints how many of them V8 made in the old generation.
 *
 * V8 acts on such a decision in optimized code only, and when it optimizes a busy function depends
 * on timing; so the probe has the function optimized at fixed points (V8's own test natives).
 */
if (process.argv[2] === 'bot') applyV8Flags();
const natives = (code: string) => new Function('f', code) as (f: unknown) => void;
const optimizeNextCall = (f: unknown) => {
  natives('%PrepareFunctionForOptimization(f)')(f);
  natives('%OptimizeFunctionOnNextCall(f)')(f);
};

const fill = (into: unknown[], n: number) => {
  for (let i = 0; i < n; i++) into.push({ a: i, b: [i, i + 1], c: { d: i } });
};

fill([], 10);
optimizeNextCall(fill);
for (let round = 0; round < 30; round++) {
  // Young collections of their own accord (the young generation is small and full: V8 decides only
  // at such a collection), with everything this site made still alive.
  const keep: unknown[] = [];
  fill(keep, 50_000);
  // A decision V8 took meanwhile throws the optimized code away: optimize it again.
  optimizeNextCall(fill);
}
const inYoung = natives('return %InYoungGeneration(f)') as unknown as (o: unknown) => boolean;
const batch: unknown[] = [];
fill(batch, 100);
console.log(JSON.stringify({ made: batch.length, madeOld: batch.filter((o) => !inYoung(o)).length }));

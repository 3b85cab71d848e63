/** Percentiles and summaries for `npm run bench` (nearest-rank on the sorted samples). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export const round1 = (x: number): number => Math.round(x * 10) / 10;
export const round2 = (x: number): number => Math.round(x * 100) / 100;

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summary(samples: number[]): Summary {
  return { n: samples.length, p50: round1(percentile(samples, 50)), p99: round1(percentile(samples, 99)), max: round1(Math.max(...samples)) };
}

/** One line of the printed table and of the Markdown: what, ours, the floor, the ratio or gap, the goal and whether it is met. */
export interface Row {
  figure: string;
  ours: string;
  floor: string;
  versus: string;
  goal: string;
  met: boolean | null;
}

export function textTable(rows: Row[]): string {
  const head: Row = { figure: 'figure', ours: 'ours', floor: 'floor', versus: 'vs floor', goal: 'goal', met: null };
  const cells = (r: Row) => [r.figure, r.ours, r.floor, r.versus, r.goal, r === head ? 'met' : r.met === null ? '-' : r.met ? 'yes' : 'NO'];
  const all = [head, ...rows].map(cells);
  const widths = all[0]!.map((_, i) => Math.max(...all.map((c) => c[i]!.length)));
  return all.map((c) => c.map((x, i) => x.padEnd(widths[i]!)).join('  ')).join('\n');
}

export function markdownTable(rows: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| figure | ours | floor | vs floor | goal | met |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${[r.figure, r.ours, r.floor, r.versus, r.goal, r.met === null ? '–' : r.met ? 'yes' : '**no**'].map(esc).join(' | ')} |`),
  ].join('\n');
}

/**
 * How far the p-th percentile's ratio (ours over the floor) could move from sampling alone: a paired
 * bootstrap over rounds. Rounds, not requests, are resampled, since the requests of one round share
 * its fate (a pause delays them all); round i of ours and of the floor ran next to each other, so
 * they are drawn together. Deterministic (a fixed seed): the same samples give the same interval.
 * Returns the 2.5th and 97.5th percentiles of the resampled ratios.
 */
export function bootstrapRatioInterval(ours: number[][], floor: number[][], p: number, iterations = 400, seed = 1): { lo: number; hi: number } {
  const n = Math.min(ours.length, floor.length);
  if (n === 0) return { lo: NaN, hi: NaN };
  let x = seed >>> 0 || 1;
  const next = () => {
    // xorshift32: good enough to pick rounds, and the same every run.
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
  const pick = new Uint32Array(n);
  const pct = (rounds: number[][]) => {
    let size = 0;
    for (const i of pick) size += rounds[i]!.length;
    const all = new Float64Array(size);
    let k = 0;
    for (const i of pick) for (const v of rounds[i]!) all[k++] = v;
    all.sort();
    return all[Math.min(size - 1, Math.max(0, Math.ceil((p / 100) * size) - 1))]!;
  };
  const ratios = new Float64Array(iterations);
  for (let b = 0; b < iterations; b++) {
    for (let i = 0; i < n; i++) pick[i] = next();
    ratios[b] = pct(ours) / pct(floor);
  }
  ratios.sort();
  return { lo: ratios[Math.floor(0.025 * (iterations - 1))]!, hi: ratios[Math.ceil(0.975 * (iterations - 1))]! };
}

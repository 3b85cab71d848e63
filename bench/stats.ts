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

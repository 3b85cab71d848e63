/**
 * DS01's warning points: 80 % and 95 % of the idle timeout, 75 % and 90 % of the longest run.
 * A check that lands past both points sends only the later one.
 */
export type LimitKind = 'idle' | 'max_runtime';

const POINTS: Record<LimitKind, number[]> = { idle: [80, 95], max_runtime: [75, 90] };

/** The warning to send now (percent), or null when none is due or it was sent already. */
export function nextWarning(limit: LimitKind, fraction: number, sent: Set<string>, tag: string): number | null {
  const due = POINTS[limit].filter((p) => fraction * 100 >= p);
  const highest = due[due.length - 1];
  if (highest === undefined || sent.has(`${limit}:${highest}@${tag}`)) return null;
  return highest;
}

import { describe, expect, it } from 'vitest';
import { bootstrapRatioInterval, percentile } from '../../bench/stats.js';

describe("the benchmark's interval for a p99 ratio", () => {
  const rounds = (k: number, scale = 1) => Array.from({ length: k }, (_, i) => Array.from({ length: 20 }, (_, j) => scale * (1 + ((i * 7 + j * 13) % 50))));

  it('is exactly the ratio when every round of ours is the floor scaled', () => {
    const floor = rounds(100);
    expect(bootstrapRatioInterval(floor, floor, 99)).toEqual({ lo: 1, hi: 1 });
    expect(bootstrapRatioInterval(rounds(100, 2), floor, 99)).toEqual({ lo: 2, hi: 2 });
  });

  it('brackets the ratio, is wider when one round carries the tail, and is the same every run', () => {
    const floor = rounds(100);
    const ours = rounds(100);
    ours[37] = ours[37]!.map((v) => v * 3); // one slow round of ours
    const all = (x: number[][]) => x.flat();
    const ratio = percentile(all(ours), 99) / percentile(all(floor), 99);
    const got = bootstrapRatioInterval(ours, floor, 99);
    expect(got.lo).toBeLessThanOrEqual(ratio);
    expect(got.hi).toBeGreaterThanOrEqual(ratio);
    expect(got.hi - got.lo).toBeGreaterThan(0.5);
    expect(bootstrapRatioInterval(ours, floor, 99)).toEqual(got);
  });
});

import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/shared/latency-histogram.js';

describe('LatencyHistogram', () => {
  it("reads out in Prometheus' histogram format: cumulative buckets, sum and count per label pair", async () => {
    const registry = new Registry();
    const h = new LatencyHistogram('t_seconds', 'test', ['kind', 'subcommand'], [0.01, 0.1, 1], registry);
    const help = h.series('command', 'help');
    for (const s of [0.0078125, 0.00390625, 0.0625, 0.5, 8]) h.observe(help, s);
    h.observe(h.series('command', 'status'), 0.1); // on a bound: counted in that bucket (le is inclusive)
    h.observe(h.series('action', 'keepalive'), 0.02);
    expect(h.series('command', 'help')).toBe(help); // one series per pair
    const text = await registry.metrics();
    expect(text).toContain('# TYPE t_seconds histogram');
    for (const [le, n] of [
      ['0.01', 2],
      ['0.1', 3],
      ['1', 4],
      ['+Inf', 5],
    ] as const) {
      expect(text).toContain(`t_seconds_bucket{kind="command",subcommand="help",le="${le}"} ${n}`);
    }
    expect(text).toContain('t_seconds_sum{kind="command",subcommand="help"} 8.57421875');
    expect(text).toContain('t_seconds_count{kind="command",subcommand="help"} 5');
    expect(text).toContain('t_seconds_count{kind="action",subcommand="keepalive"} 1');
    expect(text).toContain('t_seconds_bucket{kind="command",subcommand="status",le="0.01"} 0');
    expect(text).toContain('t_seconds_bucket{kind="command",subcommand="status",le="0.1"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).toContain('t_seconds_count{kind="command",subcommand="help"} 0');
  });
});

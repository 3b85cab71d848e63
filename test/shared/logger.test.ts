import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { addLogSecret, createLogger, scrubSecrets } from '../../src/shared/logger.js';

/** A logger writing into an array, with the same options as the real one. */
function capture(env: NodeJS.ProcessEnv = {}): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  return { lines, log: createLogger('t', 'debug', env, sink) };
}

describe('the log scrubber', () => {
  it('removes every Slack token shape, wherever it sits in a line', () => {
    for (const t of ['xoxb-1-2-abc', 'xoxp-99-AbC', 'xapp-1-A0-123-abcdef', 'xoxe.xoxb-1-xyz', 'xoxe-1-2', 'xoxa-2-x', 'xoxr-1-y']) {
      const out = scrubSecrets(`{"err":{"headers":{"Authorization":"Bearer ${t}"},"msg":"${t}"}}`);
      expect(out).not.toContain(t);
      expect(out).toContain('Bearer [redacted]');
    }
  });

  it('removes configured secrets, also in their JSON-escaped form, and leaves short words alone', () => {
    addLogSecret('pa"ss\\word-1234');
    addLogSecret('abc'); // too short to be a secret: would scrub ordinary words
    const line = JSON.stringify({ msg: 'pa"ss\\word-1234 abc' });
    expect(scrubSecrets(line)).toBe('{"msg":"[redacted] abc"}');
  });

  it('is linear on long input (a size-capped line stays one pass of one character class)', () => {
    const long = 'xoxb-' + '-'.repeat(200_000);
    expect(scrubSecrets(long)).toBe('[redacted]');
  });

  it('scrubs what the logger writes: the env secrets and the Redis password, in any field', () => {
    const { lines, log } = capture({ SLACK_SIGNING_SECRET: 'sign-secret-value-42', REDIS_URL: 'redis://:r3d1s-pa55@redis:6379' });
    log.error({ err: new Error('connect failed: redis://:r3d1s-pa55@redis:6379 with sign-secret-value-42'), deep: { a: { b: 'xoxb-9-9-zz' } } }, 'boom');
    const all = lines.join('');
    expect(all).toContain('boom');
    expect(all).not.toContain('r3d1s-pa55');
    expect(all).not.toContain('sign-secret-value-42');
    expect(all).not.toContain('xoxb-9-9-zz');
  });
});

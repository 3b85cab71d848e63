import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { claimBuild, endBuild } from '../../src/slack/build-claim.js';
import { claimClick, releaseClick } from '../../src/slack/button-message.js';
import { firstDelivery, ignoreRedelivery } from '../../src/slack/delivery-dedupe.js';
import type { BotDeps } from '../../src/slack/deps.js';
import { claim, holderOf, release } from '../../src/shared/claim.js';
import { createLogger } from '../../src/shared/logger.js';
import { redis } from '../support/services.js';

/**
 * The pieces "exactly once" is built from, on the real Redis (the wire tests are in
 * test/e2e/exactly-once.test.ts): claims, the per-message click, the build claim, and the
 * middleware that ignores the identical interaction delivered again.
 */
describe('exactly once: claims and the redelivery middleware', () => {
  const r = redis();
  const unique = () => randomBytes(6).toString('hex');
  afterAll(() => r.quit());

  it('a claim has one holder; only that holder can give it back', async () => {
    const key = `ds01:test:claim:${unique()}`;
    expect(await claim(r, key, 'first', 60)).toBe(true);
    expect(await claim(r, key, 'second', 60)).toBe(false);
    expect(await claim(r, key, 'first', 60)).toBe(false); // the holder asking again is not a new claim
    await release(r, key, 'second'); // not theirs: left alone
    expect(await holderOf(r, key)).toBe('first');
    await release(r, key, 'first');
    expect(await claim(r, key, 'second', 60)).toBe(true);
  });

  it('a button acts once per message; a click from no message has nothing to tie it to', async () => {
    const message = { channel: 'D0ALICE', ts: `${Date.now()}.${unique()}` };
    expect(await claimClick(r, 'retire_anyway', message, 'a')).toBe(true);
    expect(await claimClick(r, 'retire_anyway', message, 'b')).toBe(false);
    expect(await claimClick(r, 'keepalive', message, 'c')).toBe(true); // another button on it
    expect(await claimClick(r, 'retire_anyway', null, 'd')).toBe(true);
    await releaseClick(r, 'retire_anyway', message, 'a');
    expect(await claimClick(r, 'retire_anyway', message, 'b')).toBe(true);
  });

  it('the same packages are claimed once until that build ends, whatever their order', async () => {
    const project = `p${unique()}`;
    const ask = (python: string[]) => ({ uid: 1001, project, python, system: [], noCache: false });
    expect(await claimBuild(r, 'req-1', ask(['einops', 'rich']))).toBe(true);
    expect(await claimBuild(r, 'req-2', ask(['rich', 'einops']))).toBe(false);
    expect(await claimBuild(r, 'req-3', ask(['einops']))).toBe(true); // other packages: their own build
    await endBuild(r, 'req-1');
    expect(await claimBuild(r, 'req-2', ask(['rich', 'einops']))).toBe(true);
  });

  describe('ignoreRedelivery', () => {
    const deps = { redis: r, log: createLogger('test', 'silent') } as unknown as BotDeps;
    const run = async (body: Record<string, unknown>) => {
      const seen = { next: 0, ack: 0 };
      const middleware = ignoreRedelivery(deps) as unknown as (a: unknown) => Promise<void>;
      await middleware({
        body,
        next: async () => void seen.next++,
        ack: async () => void seen.ack++,
      });
      return seen;
    };

    it('the identical click or submit goes on once; the copy is only acknowledged', async () => {
      for (const body of [
        { type: 'block_actions', trigger_id: unique(), actions: [{ action_id: 'home_retire', value: 'demo' }] },
        { type: 'view_submission', trigger_id: unique(), view: { id: 'V1' } },
      ]) {
        expect(await run(body)).toEqual({ next: 1, ack: 0 });
        expect(await run(structuredClone(body))).toEqual({ next: 0, ack: 1 });
      }
    });

    it('a slash command passes (its ack never waits on Redis); its listener claims it after the ack', async () => {
      const body = { command: '/ds01', text: 'retire demo', trigger_id: unique() };
      expect(await run(body)).toEqual({ next: 1, ack: 0 });
      expect(await run(structuredClone(body))).toEqual({ next: 1, ack: 0 });
      expect(await firstDelivery(deps, body)).toBe(true);
      expect(await firstDelivery(deps, structuredClone(body))).toBe(false);
    });

    it('two real clicks differ (trigger_id, action_ts) and both go on', async () => {
      const click = (trigger: string) => ({ type: 'block_actions', trigger_id: trigger, actions: [{ action_id: 'home_retire', value: 'demo' }] });
      expect(await run(click(unique()))).toEqual({ next: 1, ack: 0 });
      expect(await run(click(unique()))).toEqual({ next: 1, ack: 0 });
    });

    it('Events API deliveries pass through (their retries are claimed by event id where handled)', async () => {
      const event = { type: 'event_callback', event_id: `Ev${unique()}`, event: { type: 'app_home_opened' } };
      expect(await run(event)).toEqual({ next: 1, ack: 0 });
      expect(await run(event)).toEqual({ next: 1, ack: 0 });
    });
  });
});

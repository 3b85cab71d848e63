import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AckFirst } from '../../src/slack/ack-first.js';

/** Follow-up work waits for a burst's acks, on a clock the test moves (fake timers, no sleeping). */
describe('acks first, follow-up work after', () => {
  let t = 0;
  let gate: AckFirst;
  beforeEach(() => {
    vi.useFakeTimers();
    t = 1000;
    gate = new AckFirst(2, 50, () => t);
  });
  afterEach(() => vi.useRealTimers());

  /** Moves the clock by `ms`, one millisecond at a time, noting a request at each step when asked. */
  const pass = async (ms: number, requests = false) => {
    for (let i = 0; i < ms; i++) {
      if (requests) gate.noteRequest();
      t += 1;
      await vi.advanceTimersByTimeAsync(1);
    }
  };
  const track = (p: Promise<void>) => {
    const state = { done: false };
    void p.then(() => {
      state.done = true;
    });
    return state;
  };

  it('lets work run at once when no request came lately', async () => {
    const w = track(gate.turn());
    await vi.advanceTimersByTimeAsync(0);
    expect(w.done).toBe(true);
  });

  it('holds work while requests keep arriving, and lets it all go once they pause', async () => {
    gate.noteRequest();
    const a = track(gate.turn());
    const b = track(gate.turn());
    await pass(10, true); // ten more requests, one a millisecond
    expect([a.done, b.done]).toEqual([false, false]);
    await pass(3);
    expect([a.done, b.done]).toEqual([true, true]);
  });

  it('never holds work longer than its limit, however steady the requests', async () => {
    gate.noteRequest();
    const w = track(gate.turn());
    await pass(49, true);
    expect(w.done).toBe(false);
    await pass(2, true);
    expect(w.done).toBe(true);
  });
});

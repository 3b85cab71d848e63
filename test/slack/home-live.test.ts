import { describe, expect, it } from 'vitest';
import type { QueueEntry } from '../../src/queue/gpu-queue.js';
import { changedPlaces } from '../../src/slack/listeners/events/app-home.js';

const entry = (slackUserId: string, requestId: string, pending = false): QueueEntry => ({
  requestId,
  owner: { slackUserId, user: slackUserId.toLowerCase(), uid: 1000 },
  requestedBy: slackUserId.toLowerCase(),
  project: 'p',
  gpus: 1,
  rebuild: false,
  reply: null,
  seq: 1,
  enqueuedAt: '2026-01-01T00:00:00.000Z',
  host: null,
  pending,
});

describe('whose App Home follows a GPU queue change', () => {
  it('everyone whose place moved, who joined or who left; nobody else', () => {
    const a = entry('UA', 'ra0001');
    const b = entry('UB', 'rb0001');
    const c = entry('UC', 'rc0001');
    expect(changedPlaces([a, b, c], [a, b, c])).toEqual(new Set());
    // a got its GPU: b and c moved up.
    expect(changedPlaces([a, b, c], [b, c])).toEqual(new Set(['UA', 'UB', 'UC']));
    // c left from the back: only c.
    expect(changedPlaces([a, b, c], [a, b])).toEqual(new Set(['UC']));
    // b's launch became ready (no longer pending): only b.
    expect(changedPlaces([a, entry('UB', 'rb0001', true)], [a, b])).toEqual(new Set(['UB']));
    // Only the users asked about: a got its GPU, and of those who moved only c follows the Home.
    expect(changedPlaces([a, b, c], [b, c], new Set(['UC', 'UX']))).toEqual(new Set(['UC']));
  });
});

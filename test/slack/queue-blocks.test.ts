import { describe, expect, it } from 'vitest';
import { homeView } from '../../src/slack/blocks/home.js';
import { QUEUE_ACTION, launchWaitingMessage, queueMessage } from '../../src/slack/blocks/queue.js';
import { gpusMessage } from '../../src/slack/blocks/status.js';
import type { QueueEntry } from '../../src/queue/gpu-queue.js';

const entry = (seq: number, user: string, project: string, pending = false): QueueEntry => ({
  requestId: `req000${seq}`,
  owner: { slackUserId: `U0${user.toUpperCase()}`, user, uid: 1000 + seq },
  requestedBy: user,
  project,
  gpus: 1,
  rebuild: false,
  reply: null,
  seq,
  enqueuedAt: new Date(Date.parse('2026-01-01T10:00:00Z') - seq * 60_000).toISOString(),
  host: null,
  pending,
});
const now = Date.parse('2026-01-01T10:00:00Z');
const buttons = (blocks: unknown) => JSON.stringify(blocks).match(/"action_id":"gpu_queue_\w+"/g) ?? [];

describe('GPU queue messages', () => {
  it('the waiting launch says its place and why, with [Leave queue] carrying only its request id', () => {
    const m = launchWaitingMessage({ project: 'demo', requestId: 'req0001', position: 2, gpus: 1, onHost: null, reason: 'no-gpu' });
    expect(m.text).toContain('2nd in line for 1 GPU on any host');
    expect(JSON.stringify(m.blocks)).toContain(`"action_id":"${QUEUE_ACTION.leave}"`);
    expect(JSON.stringify(m.blocks)).toContain('"value":"req0001"');
  });
  it("/ds01 queue: everyone's entries with waiting times; a user gets [Leave queue] on their own only; an admin gets [Remove] on others", () => {
    const q = [entry(1, 'carol', 'c1'), entry(2, 'dave', 'd1', true)];
    const forDave = queueMessage(q, 'dave', false, now);
    const text = JSON.stringify(forDave.blocks);
    expect(text).toContain('*carol* — `c1`, 1 GPU on any host, waiting 1 min');
    expect(text).toContain('*dave* (you)');
    expect(text).toContain('still checking the project');
    expect(buttons(forDave.blocks)).toEqual(['"action_id":"gpu_queue_leave"']);
    expect(buttons(queueMessage(q, 'admin1', true, now).blocks)).toEqual(['"action_id":"gpu_queue_remove"', '"action_id":"gpu_queue_remove"']);
    expect(queueMessage([], 'dave', false).text).toMatch(/Nobody is waiting/);
  });
  it('the App Home shows my places in line', () => {
    const view = homeView({
      slackUserId: 'U0DAVE',
      user: { user: 'dave', uid: 1002 },
      hosts: [],
      mostAsked: [],
      adminContact: '#help',
      queue: [entry(1, 'carol', 'c1'), entry(2, 'dave', 'd1')],
    });
    expect(JSON.stringify(view.blocks)).toContain('`d1` — 2nd in line for 1 GPU on any host');
  });
  it('/ds01 gpus: who holds each GPU, for which project, for how long; outside containers marked; down hosts shown', () => {
    const m = gpusMessage(
      [
        {
          hostId: 'gpuA',
          updatedAt: new Date(now).toISOString(),
          gpuMode: 'nvidia',
          containers: [],
          images: [],
          gpus: [
            {
              slot: '0',
              uuid: 'GPU-0',
              name: 'A100',
              gpuEq: 1,
              holder: { container: 'demo._.1001', user: 'alice', project: 'demo', since: new Date(now - 125 * 60_000).toISOString(), managed: true },
            },
            { slot: '1', uuid: 'GPU-1', name: 'A100', gpuEq: 1, holder: { container: 'devbox', user: 'unknown', project: 'devbox', since: null, managed: false } },
            { slot: '2', uuid: 'GPU-2', name: 'A100', gpuEq: 1, holder: null },
          ],
        },
      ],
      undefined,
      ['gpuB'],
      now,
    );
    const text = JSON.stringify(m.blocks);
    expect(text).toContain('GPU 0 A100 — alice, `demo` (`demo._.1001`), for 2 h 5 min');
    expect(text).toContain('outside DS01');
    expect(text).toContain('GPU 2 A100 — *free*');
    expect(text).toContain('*gpuB* — :red_circle: down');
    expect(m.text).toContain('gpuB: down');
  });
});

import type { AnyBlock, KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { HostSnapshot } from '../../src/contract/hosts.js';
import { homeView, type HomeInput } from '../../src/slack/blocks/home.js';

type AnyButton = { action_id: string; value?: string; style?: string; confirm?: unknown; text: { text: string } };

function buttons(blocks: AnyBlock[]): AnyButton[] {
  return (blocks as KnownBlock[]).flatMap((b) => {
    if (b.type === 'actions') return b.elements as unknown as AnyButton[];
    if (b.type === 'section' && b.accessory) return [b.accessory as unknown as AnyButton];
    return [];
  });
}

function text(blocks: AnyBlock[]): string {
  return JSON.stringify(blocks);
}

const gpu = (slot: string, holder: { container: string; user: string } | null) => ({ slot, uuid: `GPU-${slot}`, name: 'A100', gpuEq: 1, holder });

const gpu1 = HostSnapshot.parse({
  hostId: 'gpu1',
  updatedAt: '2025-05-01T10:00:00.000Z',
  gpuMode: 'fake',
  gpus: [gpu('0', { container: 'demo._.1001', user: 'alice' }), gpu('1', null), gpu('2', { container: 'x._.1002', user: 'bob' })],
  containers: [
    {
      name: 'demo._.1001',
      user: 'alice',
      project: 'demo',
      state: 'running',
      image: 'ds01-1001/demo:latest',
      gpuUuids: ['GPU-0'],
      createdAt: '2025-05-01T09:00:00.000Z',
      protected: false,
    },
    { name: 'x._.1002', user: 'bob', project: 'x', state: 'running', image: 'ds01-1002/x:latest', gpuUuids: ['GPU-2'], createdAt: null, protected: false },
  ],
  images: [
    { user: 'alice', uid: 1001, project: 'demo', image: 'ds01-1001/demo:latest', createdAt: '2025-05-01T08:00:00.000Z' },
    { user: 'bob', uid: 1002, project: 'x', image: 'ds01-1002/x:latest', createdAt: '2025-05-01T08:00:00.000Z' },
  ],
});

const full = HostSnapshot.parse({ ...gpu1, hostId: 'gpu2', gpus: [gpu('0', { container: 'y._.1002', user: 'bob' })], containers: [], images: [] });

const base: HomeInput = {
  slackUserId: 'U0ALICE',
  user: { user: 'alice', uid: 1001 },
  hosts: [gpu1],
  mostAsked: [
    { topic: { id: 'packages-and-the-image', title: 'Why did my packages disappear?' }, count: 7 },
    { topic: { id: 'retirement', title: 'Retirement' }, count: 1 },
  ],
  adminContact: '#ds01-help',
};

describe('App Home view (pure builder)', () => {
  it("shows only the user's own containers, each with a confirmed [Retire]", () => {
    const view = homeView(base);
    expect(view.type).toBe('home');
    const all = text(view.blocks);
    expect(all).toContain('`demo` is *running* on `gpu1`, GPU 0');
    expect(all).not.toContain('`x`');
    const retire = buttons(view.blocks).filter((b) => b.action_id === 'home_retire');
    expect(retire).toHaveLength(1);
    expect(retire[0]!.value).toBe('demo');
    expect(retire[0]!.style).toBe('danger');
    expect(retire[0]!.confirm).toBeTruthy();
  });

  it('offers [Launch] and [Add packages] for each of her images', () => {
    const b = buttons(homeView(base).blocks);
    expect(b.filter((x) => x.action_id === 'home_launch').map((x) => x.value)).toEqual(['demo']);
    const add = b.filter((x) => x.action_id === 'image_update_open');
    expect(add).toHaveLength(1);
    expect(JSON.parse(add[0]!.value!)).toEqual({ project: 'demo' });
  });

  it('says how many GPUs are free per host, and that a launch would go through', () => {
    const all = text(homeView({ ...base, hosts: [gpu1, full] }).blocks);
    expect(all).toContain('`gpu1`: 1 of 3 GPUs free');
    expect(all).toContain('`gpu2`: 0 of 1 GPU free');
    expect(all).toMatch(/takes a free GPU straight away/);
    expect(all).not.toMatch(/joins the GPU queue/);
  });

  it('when every GPU is taken, says a launch would wait in the GPU queue', () => {
    const all = text(homeView({ ...base, hosts: [full] }).blocks);
    expect(all).toMatch(/joins the GPU queue and starts by itself/);
    expect(all).toMatch(/\/ds01 queue/);
  });

  it('with no host online, says launches cannot run and who to tell', () => {
    const all = text(homeView({ ...base, hosts: [] }).blocks);
    expect(all).toMatch(/No GPU host has reported in/);
    expect(all).toContain('#ds01-help');
    expect(all).toMatch(/no containers right now/);
  });

  it('lists the most asked questions as faq_topic buttons, most asked first', () => {
    const topics = buttons(homeView(base).blocks).filter((b) => b.action_id === 'faq_topic');
    expect(topics.map((t) => t.value)).toEqual(['packages-and-the-image', 'retirement']);
    const all = text(homeView(base).blocks);
    expect(all).toContain('asked 7 times');
    expect(all).toContain('asked once');
  });

  it('an unregistered user is told how to get registered, without container actions', () => {
    const view = homeView({ ...base, user: null, slackUserId: 'U0GHOST' });
    const all = text(view.blocks);
    expect(all).toMatch(/not registered/);
    expect(all).toContain('U0GHOST');
    expect(buttons(view.blocks).some((b) => b.action_id === 'home_retire' || b.action_id === 'home_launch')).toBe(false);
  });

  it('stays within Slack limits: at most 100 blocks, button texts up to 75 characters, one action id per block', () => {
    const many = HostSnapshot.parse({
      ...gpu1,
      containers: Array.from({ length: 40 }, (_, i) => ({ ...gpu1.containers[0]!, name: `p${i}._.1001`, project: `p${i}` })),
      images: Array.from({ length: 40 }, (_, i) => ({ ...gpu1.images[0]!, project: `p${i}` })),
    });
    const long = { topic: { id: 'x', title: 'y'.repeat(200) }, count: 1 };
    const view = homeView({ ...base, hosts: [many], mostAsked: Array(5).fill(long) });
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    for (const b of buttons(view.blocks)) expect(b.text.text.length).toBeLessThanOrEqual(75);
    for (const b of view.blocks as KnownBlock[]) {
      if (b.type !== 'actions') continue;
      const ids = (b.elements as unknown as AnyButton[]).map((e) => e.action_id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(text(view.blocks)).toMatch(/and 25 more/);
  });
});

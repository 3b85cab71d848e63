import { describe, expect, it } from 'vitest';
import type { HostSnapshot } from '../../src/contract/hosts.js';
import { placeLaunch, type PlacementRequest } from '../../src/hosts/placement.js';
import type { UserLimits } from '../../src/limits/resource-limits.js';

const gpu = (slot: string, holder: string | null, gpuEq = 1) => ({
  slot,
  uuid: `U-${slot}-${Math.random()}`,
  name: 'A100',
  gpuEq,
  holder: holder ? { container: `${holder}-c`, user: holder, managed: true } : null,
});
const host = (hostId: string, gpus: HostSnapshot['gpus'], extra: Partial<HostSnapshot> = {}): HostSnapshot => ({
  hostId,
  updatedAt: new Date().toISOString(),
  gpuMode: 'fake',
  gpus,
  containers: [],
  images: [],
  ...extra,
});
const limits = { group: 'student', maxGpuEquivalents: 2, maxGpuSlotsPerContainer: 2, maxContainersPerUser: null } as unknown as UserLimits;
const req = (over: Partial<PlacementRequest> = {}): PlacementRequest => ({ user: 'alice', uid: 1001, project: 'demo', gpus: 1, limits, sharedWorkspaces: true, ...over });

describe('placement across hosts', () => {
  it('the least-allocated host with room (a MIG slice counts as its fraction of 7)', () => {
    const a = host('gpuA', [gpu('0', 'bob'), gpu('1', null)]);
    const b = host('gpuB', [gpu('0:0', 'carol', 3 / 7), gpu('0:1', null, 3 / 7), gpu('0:2', null, 1 / 7)]);
    const p = placeLaunch([a, b], req());
    expect(p.kind === 'host' && p.host.hostId).toBe('gpuB'); // 3/7 allocated < 1/2
  });
  it("among hosts with room, the one with the project's image comes first", () => {
    const images = [{ user: 'alice', uid: 1001, project: 'demo', image: 'ds01-1001/demo:latest', createdAt: new Date().toISOString(), packages: { python: [], system: [] } }];
    const a = host('gpuA', [gpu('0', null), gpu('1', null)]);
    const b = host('gpuB', [gpu('0', 'bob'), gpu('1', null)], { images });
    const p = placeLaunch([a, b], req());
    expect(p.kind === 'host' && p.host.hostId).toBe('gpuB');
  });
  it('more GPUs than the group allows per container is refused at once with the rule, nothing queued', () => {
    const a = host('gpuA', [gpu('0', null), gpu('1', null), gpu('2', null)]);
    const p = placeLaunch([a], req({ gpus: 3 }));
    expect(p.kind).toBe('refuse');
    expect(p.kind === 'refuse' && p.message).toMatch(/asked for 3 GPUs, but your group \(student\) allows at most 2 per container, so nothing was queued/);
  });
  it('a host without enough free slots is passed over', () => {
    const a = host('gpuA', [gpu('0', null)]);
    const b = host('gpuB', [gpu('0', 'bob'), gpu('1', null), gpu('2', null)]);
    const p = placeLaunch([a, b], req({ gpus: 2 }));
    expect(p.kind === 'host' && p.host.hostId).toBe('gpuB');
  });
  it('no GPU free anywhere: wait in the queue (no-gpu), via the least-allocated host', () => {
    const p = placeLaunch([host('gpuA', [gpu('0', 'bob')]), host('gpuB', [gpu('0', 'carol')])], req());
    expect(p).toMatchObject({ kind: 'queue', reason: 'no-gpu', onHost: null });
  });
  it('at the quota across hosts: wait (quota), even with GPUs free', () => {
    const p = placeLaunch([host('gpuA', [gpu('0', 'alice'), gpu('1', null)]), host('gpuB', [gpu('0', 'alice'), gpu('1', null)])], req());
    expect(p).toMatchObject({ kind: 'queue', reason: 'quota' });
  });
  it('more GPUs than any host has: refused with a sentence', () => {
    const p = placeLaunch([host('gpuA', [gpu('0', null)])], req({ gpus: 2 }));
    expect(p.kind).toBe('refuse');
  });
  it("workspaces local to a host: only the host with the project's image, and the wait is pinned to it", () => {
    const images = [{ user: 'alice', uid: 1001, project: 'demo', image: 'ds01-1001/demo:latest', createdAt: new Date().toISOString(), packages: { python: [], system: [] } }];
    const a = host('gpuA', [gpu('0', null)]);
    const b = host('gpuB', [gpu('0', 'bob')], { images });
    expect(placeLaunch([a, b], req({ sharedWorkspaces: false }))).toMatchObject({ kind: 'queue', reason: 'no-gpu', onHost: 'gpuB' });
    expect(placeLaunch([a, b], req({ sharedWorkspaces: true }))).toMatchObject({ kind: 'host', host: { hostId: 'gpuA' } });
  });
});

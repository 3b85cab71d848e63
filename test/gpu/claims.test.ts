import { describe, expect, it } from 'vitest';
import { claimedUuids, type EngineGpuFacts } from '../../workers/gpu/claims.js';
import { allocateGpus } from '../../workers/gpu/allocator.js';
import type { GpuSlot } from '../../workers/gpu/nvidia-smi.js';
import type { UserLimits } from '../../src/limits/resource-limits.js';

const gpu = (index: number): GpuSlot => ({ uuid: `GPU-${index}`, slot: String(index), index, name: 'A100', memoryMiB: 40960, kind: 'gpu', gpuEq: 1 });
const mig = (index: number, dev: number): GpuSlot => ({
  uuid: `MIG-${index}-${dev}`,
  slot: `${index}:${dev}`,
  index,
  name: 'A100 3g',
  memoryMiB: null,
  kind: 'mig',
  profile: '3g.40gb',
  parentUuid: `GPU-${index}`,
  gpuEq: 3 / 7,
});
const slots = [gpu(0), gpu(1), mig(2, 0), mig(2, 1), gpu(3)];
const facts = (f: Partial<EngineGpuFacts>): EngineGpuFacts => ({ requests: [], visibleDevices: null, runtime: 'runc', ...f });

describe('which GPUs a container holds, read from the engine', () => {
  it('docker run --gpus 2 (Count, no labels) holds the first two GPUs', () => {
    expect(claimedUuids(slots, [], facts({ requests: [{ deviceIds: [], count: 2 }] }))).toEqual(['GPU-0', 'GPU-1']);
  });
  it('--gpus all (Count -1) holds every slot, MIG slices included', () => {
    expect(claimedUuids(slots, [], facts({ requests: [{ deviceIds: [], count: -1 }] })).sort()).toEqual(slots.map((s) => s.uuid).sort());
  });
  it('device ids by index, by UUID, by gpu:mig, and a MIG-enabled GPU by index holds its slices', () => {
    expect(claimedUuids(slots, [], facts({ requests: [{ deviceIds: ['3', 'GPU-1', '2:1'], count: 0 }] }))).toEqual(['GPU-3', 'GPU-1', 'MIG-2-1']);
    expect(claimedUuids(slots, [], facts({ requests: [{ deviceIds: ['2'], count: 0 }] }))).toEqual(['MIG-2-0', 'MIG-2-1']);
  });
  it('an unknown device stays a claim (counted as a full GPU), never dropped', () => {
    expect(claimedUuids(slots, [], facts({ requests: [{ deviceIds: ['GPU-gone'], count: 0 }] }))).toEqual(['GPU-gone']);
  });
  it('NVIDIA_VISIBLE_DEVICES naming devices counts; "all" counts only under the nvidia runtime; none/void nothing', () => {
    expect(claimedUuids(slots, [], facts({ visibleDevices: '0,GPU-3' }))).toEqual(['GPU-0', 'GPU-3']);
    expect(claimedUuids(slots, [], facts({ visibleDevices: 'all' }))).toEqual([]);
    expect(claimedUuids(slots, [], facts({ visibleDevices: 'all', runtime: 'nvidia' }))).toHaveLength(slots.length);
    expect(claimedUuids(slots, [], facts({ visibleDevices: 'void' }))).toEqual([]);
    expect(claimedUuids(slots, [], facts({ visibleDevices: 'none', runtime: 'nvidia' }))).toEqual([]);
  });
  it('labels cannot free a GPU the engine gives: labels and device requests are unioned', () => {
    // Labels say GPU 3; the device request gives GPU 0. Both are taken.
    expect(claimedUuids(slots, ['GPU-3'], facts({ requests: [{ deviceIds: ['GPU-0'], count: 0 }] })).sort()).toEqual(['GPU-0', 'GPU-3']);
    // Labels say nothing; the env still gives GPU 1.
    expect(claimedUuids(slots, [], facts({ visibleDevices: 'GPU-1' }))).toEqual(['GPU-1']);
  });
  it('the allocator never gives out a GPU held only by a device request', () => {
    const limits = { group: 'student', maxGpuSlotsPerContainer: 2, maxContainersPerUser: 3, maxGpuEquivalents: null } as unknown as UserLimits;
    const full = [gpu(0), gpu(1)];
    const held = claimedUuids(full, [], facts({ requests: [{ deviceIds: [], count: 1 }] }));
    const got = allocateGpus({
      slots: full,
      holders: [{ container: 'devcontainer', user: 'unknown', gpuUuids: held }],
      request: { user: 'alice', count: 1 },
      limits,
      userContainerCount: 0,
    });
    expect(got.slots.map((s) => s.uuid)).toEqual(['GPU-1']);
    expect(() =>
      allocateGpus({
        slots: full,
        holders: [{ container: 'devcontainer', user: 'unknown', gpuUuids: claimedUuids(full, [], facts({ requests: [{ deviceIds: [], count: -1 }] })) }],
        request: { user: 'alice', count: 1 },
        limits,
        userContainerCount: 0,
      }),
    ).toThrow(/in use/);
  });
});

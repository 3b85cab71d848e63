import { describe, expect, it } from 'vitest';
import { allocateGpus, allocationSummary, formatGpuEq, heldGpuEq, isHighDemand, type AllocationInput, type GpuHolder } from '../../workers/gpu/allocator.js';
import type { GpuSlot } from '../../workers/gpu/nvidia-smi.js';
import type { UserLimits } from '../../src/limits/resource-limits.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';

const GiB = 1024 ** 3;

function limitsFor(group: 'student' | 'researcher' | 'admin', over: Partial<UserLimits> = {}): UserLimits {
  const base: Record<typeof group, Pick<UserLimits, 'maxGpuEquivalents' | 'maxGpuSlotsPerContainer' | 'maxContainersPerUser'>> = {
    student: { maxGpuEquivalents: 2, maxGpuSlotsPerContainer: 2, maxContainersPerUser: 3 },
    researcher: { maxGpuEquivalents: 4, maxGpuSlotsPerContainer: 3, maxContainersPerUser: 5 },
    admin: { maxGpuEquivalents: null, maxGpuSlotsPerContainer: null, maxContainersPerUser: 10 },
  };
  return {
    group,
    ...base[group],
    maxCpus: 32,
    memoryBytes: 32 * GiB,
    memorySwapBytes: 32 * GiB,
    shmSizeBytes: 16 * GiB,
    pidsLimit: 4096,
    maxRuntimeH: 24,
    idleTimeoutH: 0.5,
    gpuHoldAfterStopH: 0.25,
    containerHoldAfterStopH: 0.5,
    policies: {
      gpuIdleThreshold: 5,
      cpuIdleThreshold: 2,
      idleDetectionWindow: 3,
      graceperiodM: 30,
      keepaliveMaxDurationH: 24,
      highDemandThreshold: 0.8,
      highDemandIdleReduction: 0.5,
      sigtermGraceS: 60,
    },
    ...over,
  };
}

function fullGpus(n: number): GpuSlot[] {
  return Array.from({ length: n }, (_, i) => ({
    uuid: `GPU-${i}`,
    slot: String(i),
    index: i,
    name: 'NVIDIA A100-SXM4-40GB',
    memoryMiB: 40960,
    kind: 'gpu' as const,
    gpuEq: 1,
  }));
}

function mig(index: number, device: number, profile: string): GpuSlot {
  const slices = Number(profile.split('g')[0]);
  return {
    uuid: `MIG-${index}-${device}`,
    slot: `${index}:${device}`,
    index,
    name: `NVIDIA A100-SXM4-80GB MIG ${profile}`,
    memoryMiB: null,
    kind: 'mig',
    profile,
    parentUuid: `GPU-${index}`,
    gpuEq: slices / 7,
  };
}

/** GPU 0 whole; GPUs 1 and 2 in MIG mode, each 3g + 2g + 1g + 1g. */
function mixedHost(): GpuSlot[] {
  return [
    ...fullGpus(1),
    mig(1, 0, '3g.40gb'),
    mig(1, 1, '2g.20gb'),
    mig(1, 2, '1g.10gb'),
    mig(1, 3, '1g.10gb'),
    mig(2, 0, '3g.40gb'),
    mig(2, 1, '2g.20gb'),
    mig(2, 2, '1g.10gb'),
    mig(2, 3, '1g.10gb'),
  ];
}

function input(over: Partial<AllocationInput> & { user?: string; count?: number } = {}): AllocationInput {
  const { user = 'alice', count = 1, ...rest } = over;
  return {
    slots: fullGpus(4),
    holders: [],
    request: { user, count },
    limits: limitsFor('student'),
    userContainerCount: 0,
    host: 'ds01',
    ...rest,
  };
}

function errorOf(fn: () => unknown): Ds01Error {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Ds01Error);
    return e as Ds01Error;
  }
  throw new Error('expected a Ds01Error');
}

describe('allocateGpus: choosing GPUs', () => {
  it('takes GPU 0 on an empty host', () => {
    const got = allocateGpus(input());
    expect(got.slots.map((s) => s.slot)).toEqual(['0']);
    expect(got.gpuEq).toBe(1);
  });

  it('skips GPUs other containers hold and takes the lowest free one', () => {
    const holders: GpuHolder[] = [
      { container: 'a._.1001', user: 'bob', gpuUuids: ['GPU-0'] },
      { container: 'b._.1002', user: 'carol', gpuUuids: ['GPU-2'] },
    ];
    expect(allocateGpus(input({ holders })).slots.map((s) => s.uuid)).toEqual(['GPU-1']);
  });

  it('two launches never get the same GPU', () => {
    const holders: GpuHolder[] = [];
    const seen: string[] = [];
    for (const [i, user] of ['alice', 'bob', 'carol', 'dave'].entries()) {
      const got = allocateGpus(input({ user, holders }));
      seen.push(...got.slots.map((s) => s.uuid));
      holders.push({ container: `p${i}._.100${i}`, user, gpuUuids: got.slots.map((s) => s.uuid) });
    }
    expect(new Set(seen).size).toBe(4);
    expect(seen.sort()).toEqual(['GPU-0', 'GPU-1', 'GPU-2', 'GPU-3']);
  });

  it('never hands out the same GPU twice within one multi-GPU request', () => {
    const got = allocateGpus(input({ count: 3, limits: limitsFor('researcher') }));
    expect(got.slots.map((s) => s.uuid)).toEqual(['GPU-0', 'GPU-1', 'GPU-2']);
    expect(got.gpuEq).toBe(3);
  });

  it('counts a GPU held by a stopped-but-held container as taken', () => {
    // The caller passes held-after-stop containers as holders; the allocator must respect them like running ones.
    const holders: GpuHolder[] = [{ container: 'old._.1001', user: 'bob', gpuUuids: ['GPU-0', 'GPU-1', 'GPU-2'] }];
    expect(allocateGpus(input({ holders })).slots[0]?.uuid).toBe('GPU-3');
  });

  it('prefers full GPUs over MIG slices, as DS01 does', () => {
    expect(allocateGpus(input({ slots: mixedHost() })).slots.map((s) => s.slot)).toEqual(['0']);
  });

  it('puts a MIG slice on the least-allocated physical GPU', () => {
    const holders: GpuHolder[] = [
      { container: 'x._.1', user: 'bob', gpuUuids: ['GPU-0'] },
      { container: 'y._.2', user: 'carol', gpuUuids: ['MIG-1-0'] },
    ];
    const got = allocateGpus(input({ slots: mixedHost(), holders }));
    expect(got.slots.map((s) => s.slot)).toEqual(['2:0']);
    expect(got.gpuEq).toBeCloseTo(3 / 7);
  });

  it('spreads a two-slice request over two physical GPUs when they are equally loaded', () => {
    const holders: GpuHolder[] = [{ container: 'x._.1', user: 'bob', gpuUuids: ['GPU-0'] }];
    const got = allocateGpus(input({ slots: mixedHost(), holders, count: 2 }));
    expect(got.slots.map((s) => s.slot)).toEqual(['1:0', '2:0']);
    expect(got.gpuEq).toBeCloseTo(6 / 7);
  });

  it('treats all slices of a MIG card as taken when a label names the card itself', () => {
    const holders: GpuHolder[] = [
      { container: 'x._.1', user: 'bob', gpuUuids: ['GPU-0'] },
      { container: 'y._.2', user: 'carol', gpuUuids: ['GPU-1'] },
    ];
    expect(allocateGpus(input({ slots: mixedHost(), holders })).slots[0]?.index).toBe(2);
  });

  it('falls back to a smaller MIG slice when a full GPU would overrun the quota', () => {
    const holders: GpuHolder[] = [{ container: 'mine._.1', user: 'alice', gpuUuids: ['MIG-1-0', 'MIG-1-1', 'MIG-1-2', 'MIG-1-3'] }];
    // alice holds all of GPU 1 (1.0 gpueq) and has 1.0 left of 2.0: the full GPU 0 fits exactly.
    expect(allocateGpus(input({ slots: mixedHost(), holders })).slots[0]?.slot).toBe('0');
    // With 0.5 left, only a slice fits, so she gets the 3g slice instead of being refused.
    const tight = limitsFor('student', { maxGpuEquivalents: 1.5 });
    const got = allocateGpus(input({ slots: mixedHost(), holders, limits: tight }));
    expect(got.slots.map((s) => s.slot)).toEqual(['2:0']);
    expect(got.gpuEq).toBeCloseTo(3 / 7);
  });
});

describe('allocateGpus: limits', () => {
  it('refuses more GPUs per container than the group allows', () => {
    const err = errorOf(() => allocateGpus(input({ count: 3 })));
    expect(err.code).toBe(ErrorCode.TooManyGpus);
    expect(err.userMessage).toContain('student');
    expect(err.userMessage).toContain('at most 2 per container');
  });

  it('refuses a request for zero GPUs', () => {
    expect(errorOf(() => allocateGpus(input({ count: 0 }))).code).toBe(ErrorCode.TooManyGpus);
    expect(errorOf(() => allocateGpus(input({ count: 1.5 }))).code).toBe(ErrorCode.TooManyGpus);
  });

  it('refuses a fourth container for a student, saying how to free one', () => {
    const err = errorOf(() => allocateGpus(input({ userContainerCount: 3 })));
    expect(err.code).toBe(ErrorCode.QuotaReached);
    expect(err.userMessage).toBe('You already have 3 containers running, the most your group (student) allows. Retire one with `/ds01 retire <project>` and try again.');
  });

  it('refuses a launch that would take a student past 2 GPUs, naming the numbers', () => {
    const holders: GpuHolder[] = [
      { container: 'a._.1001', user: 'alice', gpuUuids: ['GPU-0'] },
      { container: 'b._.1001', user: 'alice', gpuUuids: ['GPU-1'] },
      { container: 'c._.1002', user: 'bob', gpuUuids: ['GPU-2'] },
    ];
    const err = errorOf(() => allocateGpus(input({ holders, userContainerCount: 2 })));
    expect(err.code).toBe(ErrorCode.QuotaReached);
    expect(err.userMessage).toContain('already using 2 of the 2 GPUs');
    expect(err.userMessage).toContain('student');
    expect(err.userMessage).toContain('needs 1 more');
    expect(err.userMessage).toContain('/ds01 retire');
  });

  it("doesn't count other users' GPUs against your quota", () => {
    const holders: GpuHolder[] = [
      { container: 'a._.1002', user: 'bob', gpuUuids: ['GPU-0', 'GPU-1'] },
      { container: 'b._.1002', user: 'bob', gpuUuids: ['GPU-2'] },
    ];
    expect(allocateGpus(input({ holders })).slots[0]?.uuid).toBe('GPU-3');
  });

  it('counts MIG slices by their fraction: a student with 6/7 held can still take a 1g slice but not a 2g', () => {
    const slots = [mig(1, 0, '3g.40gb'), mig(1, 1, '2g.20gb'), mig(1, 2, '1g.10gb'), mig(1, 3, '1g.10gb')];
    const holders: GpuHolder[] = [{ container: 'a._.1', user: 'alice', gpuUuids: ['MIG-1-0', 'MIG-1-2'] }]; // 4/7
    const limits = limitsFor('student', { maxGpuEquivalents: 1 });
    expect(heldGpuEq(slots, holders)).toBeCloseTo(4 / 7);
    const got = allocateGpus(input({ slots, holders, limits }));
    expect(got.slots.map((s) => s.slot)).toEqual(['1:1']); // 4/7 + 2/7 = 6/7 ≤ 1
    holders.push({ container: 'b._.1', user: 'alice', gpuUuids: ['MIG-1-1'] }); // now 6/7
    expect(allocateGpus(input({ slots, holders, limits })).slots.map((s) => s.slot)).toEqual(['1:3']);
    holders.push({ container: 'c._.1', user: 'alice', gpuUuids: ['MIG-1-3'] }); // now 7/7
    const err = errorOf(() => allocateGpus(input({ slots, holders, limits })));
    expect(err.code).toBe(ErrorCode.QuotaReached);
    expect(err.userMessage).toContain('GPU-equivalents');
  });

  it('refuses when the only free slot is bigger than what is left of the quota', () => {
    const slots = [mig(1, 0, '3g.40gb'), mig(1, 1, '2g.20gb'), mig(1, 2, '1g.10gb'), mig(1, 3, '1g.10gb')];
    const holders: GpuHolder[] = [
      { container: 'a._.1', user: 'alice', gpuUuids: ['MIG-1-1', 'MIG-1-2'] }, // 3/7
      { container: 'b._.2', user: 'bob', gpuUuids: ['MIG-1-3'] },
    ];
    const err = errorOf(() => allocateGpus(input({ slots, holders, limits: limitsFor('student', { maxGpuEquivalents: 0.5 }) })));
    expect(err.code).toBe(ErrorCode.QuotaReached);
    expect(err.userMessage).toContain('already using 0.43 of the 0.5 GPU-equivalents');
    expect(err.userMessage).toContain('needs at least 0.43 more');
  });

  it('lets an admin with unlimited GPUs take every GPU on the host in one container', () => {
    const got = allocateGpus(input({ user: 'datasciencelab', count: 4, limits: limitsFor('admin'), userContainerCount: 9 }));
    expect(got.slots.map((s) => s.slot)).toEqual(['0', '1', '2', '3']);
    expect(got.gpuEq).toBe(4);
  });

  it('still limits admins to their container count', () => {
    const err = errorOf(() => allocateGpus(input({ limits: limitsFor('admin'), userContainerCount: 10 })));
    expect(err.code).toBe(ErrorCode.QuotaReached);
    expect(err.userMessage).toContain('(admin)');
  });

  it('treats a null container limit as unlimited', () => {
    const limits = limitsFor('admin', { maxContainersPerUser: null });
    expect(allocateGpus(input({ limits, userContainerCount: 500 })).slots).toHaveLength(1);
  });

  it('says plainly that a group without GPUs cannot launch one', () => {
    const err = errorOf(() => allocateGpus(input({ limits: limitsFor('student', { maxGpuSlotsPerContainer: 0 }) })));
    expect(err.code).toBe(ErrorCode.TooManyGpus);
    expect(err.userMessage).toContain("doesn't include GPUs");
  });

  it('checks the per-container cap before the container count, and the container count before the quota', () => {
    const holders: GpuHolder[] = [{ container: 'a._.1', user: 'alice', gpuUuids: ['GPU-0', 'GPU-1'] }];
    expect(errorOf(() => allocateGpus(input({ holders, count: 5, userContainerCount: 3 }))).code).toBe(ErrorCode.TooManyGpus);
    expect(errorOf(() => allocateGpus(input({ holders, userContainerCount: 3 }))).userMessage).toContain('containers running');
    expect(errorOf(() => allocateGpus(input({ holders, userContainerCount: 1 }))).userMessage).toContain('already using 2');
  });
});

describe('allocateGpus: a full host', () => {
  const busy: GpuHolder[] = [0, 1, 2, 3].map((i) => ({ container: `p${i}._.${2000 + i}`, user: `u${i}`, gpuUuids: [`GPU-${i}`] }));

  it('says all GPUs on the host are in use and what to do next', () => {
    const err = errorOf(() => allocateGpus(input({ holders: busy })));
    expect(err.code).toBe(ErrorCode.NoGpuFree);
    expect(err.userMessage).toMatch(/^All 4 GPUs on ds01 are in use right now\./);
    expect(err.userMessage).toContain('try again in a little while');
    expect(err.userMessage).toContain('/ds01 gpus');
  });

  it('says how many are free when fewer than asked for', () => {
    const err = errorOf(() => allocateGpus(input({ holders: busy.slice(0, 3), count: 2 })));
    expect(err.code).toBe(ErrorCode.NoGpuFree);
    expect(err.userMessage).toContain('Only 1 of the 4 GPUs on ds01 is free right now, and you asked for 2.');
    expect(err.userMessage).toContain('fewer GPUs');
  });

  it('prefers the quota message over the no-GPU-free message when both apply', () => {
    const mine = busy.map((h, i) => (i < 2 ? { ...h, user: 'alice' } : h));
    expect(errorOf(() => allocateGpus(input({ holders: mine, userContainerCount: 2 }))).code).toBe(ErrorCode.QuotaReached);
  });

  it('talks about GPU slots when the host has MIG slices', () => {
    const slots = [mig(1, 0, '3g.40gb'), mig(1, 1, '2g.20gb')];
    const holders: GpuHolder[] = [{ container: 'x._.1', user: 'bob', gpuUuids: ['MIG-1-0', 'MIG-1-1'] }];
    expect(errorOf(() => allocateGpus(input({ slots, holders }))).userMessage).toMatch(/^All 2 GPU slots on ds01 are in use/);
  });
});

describe('allocationSummary', () => {
  it('lists every slot with its holder or null, in slot order', () => {
    const holders: GpuHolder[] = [{ container: 'nlp._.1001', user: 'alice', gpuUuids: ['GPU-2'] }];
    const rows = allocationSummary(fullGpus(4).reverse(), holders);
    expect(rows.map((r) => [r.slot, r.uuid, r.holder])).toEqual([
      ['0', 'GPU-0', null],
      ['1', 'GPU-1', null],
      ['2', 'GPU-2', { container: 'nlp._.1001', user: 'alice' }],
      ['3', 'GPU-3', null],
    ]);
  });

  it('shows MIG slices with their profile', () => {
    const rows = allocationSummary(mixedHost(), [{ container: 'cv._.1002', user: 'bob', gpuUuids: ['MIG-1-1'] }]);
    expect(rows.find((r) => r.slot === '1:1')).toMatchObject({ profile: '2g.20gb', kind: 'mig', holder: { user: 'bob' } });
    expect(rows.filter((r) => r.holder !== null)).toHaveLength(1);
  });
});

describe('isHighDemand', () => {
  const slots = fullGpus(4);
  const holding = (n: number): GpuHolder[] => Array.from({ length: n }, (_, i) => ({ container: `c${i}`, user: `u${i}`, gpuUuids: [`GPU-${i}`] }));

  it('is high demand at 80 % allocation with DS01’s threshold, not below', () => {
    expect(isHighDemand(slots, holding(3), 0.8)).toBe(false); // 75 %
    expect(isHighDemand(slots, holding(4), 0.8)).toBe(true);
    expect(isHighDemand(fullGpus(5), holding(4), 0.8)).toBe(true); // exactly 80 %
  });

  it('weighs MIG slices by their fraction', () => {
    const migSlots = [mig(1, 0, '3g.40gb'), mig(1, 1, '2g.20gb'), mig(1, 2, '1g.10gb'), mig(1, 3, '1g.10gb')];
    const holders: GpuHolder[] = [{ container: 'x', user: 'u', gpuUuids: ['MIG-1-0', 'MIG-1-1'] }]; // 5/7 ≈ 71 %
    expect(isHighDemand(migSlots, holders, 0.8)).toBe(false);
    holders.push({ container: 'y', user: 'v', gpuUuids: ['MIG-1-2'] }); // 6/7 ≈ 86 %
    expect(isHighDemand(migSlots, holders, 0.8)).toBe(true);
  });

  it('is never high demand on a host without GPUs', () => {
    expect(isHighDemand([], [], 0.8)).toBe(false);
  });
});

describe('formatGpuEq', () => {
  it('prints whole numbers plainly and fractions to two places', () => {
    expect(formatGpuEq(2)).toBe('2');
    expect(formatGpuEq(2 / 7)).toBe('0.29');
    expect(formatGpuEq(0.5)).toBe('0.5');
  });
});

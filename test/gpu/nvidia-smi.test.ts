import { describe, expect, it } from 'vitest';
import { buildGpuSlots, isNotAvailable, migProfileGpuEq, parseGpuList, parseGpuQuery, parseGpuSlots, parseUtilisation } from '../../workers/gpu/nvidia-smi.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';

// Real-format nvidia-smi output. UUIDs are made up but shaped like the driver's.
/** DS01 today: 4 × A100-SXM4-40GB, MIG off. `--query-gpu=index,uuid,name,memory.total,mig.mode.current`. */
const A100X4_QUERY = `0, GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77, NVIDIA A100-SXM4-40GB, 40960, Disabled
1, GPU-8e6a9c21-4f0b-7d3e-b1a2-0c9f8e7d6c5b, NVIDIA A100-SXM4-40GB, 40960, Disabled
2, GPU-1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718, NVIDIA A100-SXM4-40GB, 40960, Disabled
3, GPU-9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4, NVIDIA A100-SXM4-40GB, 40960, Disabled
`;

const A100X4_LIST = `GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77)
GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-8e6a9c21-4f0b-7d3e-b1a2-0c9f8e7d6c5b)
GPU 2: NVIDIA A100-SXM4-40GB (UUID: GPU-1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718)
GPU 3: NVIDIA A100-SXM4-40GB (UUID: GPU-9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4)
`;

const A100X4_UTIL = `GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77, 97
GPU-8e6a9c21-4f0b-7d3e-b1a2-0c9f8e7d6c5b, 0
GPU-1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718, 3
GPU-9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4, 100
`;

/** Two A100-80GB: GPU 0 whole, GPU 1 in MIG mode split 3g.40gb + 2g.20gb + 1g.10gb + 1g.10gb (7 slices). */
const MIG_QUERY = `0, GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0, NVIDIA A100-SXM4-80GB, 81920, Disabled
1, GPU-7f6e5d4c-3b2a-1908-f7e6-d5c4b3a29180, NVIDIA A100-SXM4-80GB, 81920, Enabled
`;

const MIG_LIST = `GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0)
GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-7f6e5d4c-3b2a-1908-f7e6-d5c4b3a29180)
  MIG 3g.40gb     Device  0: (UUID: MIG-5c1c8a3e-2d4f-5b6a-9c8d-7e6f5a4b3c2d)
  MIG 2g.20gb     Device  1: (UUID: MIG-a1b2c3d4-e5f6-5a7b-8c9d-0e1f2a3b4c5d)
  MIG 1g.10gb     Device  2: (UUID: MIG-0f9e8d7c-6b5a-5948-8372-6150a4b3c2d1)
  MIG 1g.10gb     Device  3: (UUID: MIG-d4c3b2a1-0f9e-58d7-9c6b-5a4938271605)
`;

/** In MIG mode the parent GPU reports no utilisation. */
const MIG_UTIL = `GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0, 42
GPU-7f6e5d4c-3b2a-1908-f7e6-d5c4b3a29180, [N/A]
`;

const H100_QUERY = `0, GPU-3e2d1c0b-a998-4877-b665-5443c3221100, NVIDIA H100 80GB HBM3, 81559, Disabled\n`;
const H100_LIST = `GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-3e2d1c0b-a998-4877-b665-5443c3221100)\n`;

describe('parseGpuQuery', () => {
  it('reads four A100s with MIG off, in index order', () => {
    const rows = parseGpuQuery(A100X4_QUERY);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toEqual({
      index: 0,
      uuid: 'GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77',
      name: 'NVIDIA A100-SXM4-40GB',
      memoryMiB: 40960,
      migMode: 'disabled',
    });
    expect(rows.map((r) => r.index)).toEqual([0, 1, 2, 3]);
  });

  it('copes with odd spacing, CRLF, blank lines and a stray header row', () => {
    const messy =
      'index, uuid, name, memory.total [MiB], mig.mode.current\r\n' +
      '\r\n' +
      '  1 ,GPU-b ,  NVIDIA A100-SXM4-40GB   ,40960,   Enabled  \r\n' +
      '0,GPU-a,NVIDIA A100-SXM4-40GB,40960,Disabled\n\n\n';
    const rows = parseGpuQuery(messy);
    expect(rows.map((r) => [r.index, r.uuid, r.name, r.migMode])).toEqual([
      [0, 'GPU-a', 'NVIDIA A100-SXM4-40GB', 'disabled'],
      [1, 'GPU-b', 'NVIDIA A100-SXM4-40GB', 'enabled'],
    ]);
  });

  it('treats [N/A] MIG mode as a GPU without MIG and [N/A] memory as unknown', () => {
    const rows = parseGpuQuery('0, GPU-c, NVIDIA GeForce RTX 3090, [N/A], [N/A]\n');
    expect(rows[0]).toMatchObject({ memoryMiB: null, migMode: 'unsupported' });
  });

  it('reads an H100', () => {
    expect(parseGpuQuery(H100_QUERY)[0]).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, migMode: 'disabled' });
  });

  it('returns nothing for empty output', () => {
    expect(parseGpuQuery('')).toEqual([]);
    expect(parseGpuQuery('\n\n')).toEqual([]);
  });

  it('rejects a truncated line with a typed error rather than inventing a GPU', () => {
    const err = (() => {
      try {
        parseGpuQuery('0, GPU-a\n');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(Ds01Error);
    expect((err as Ds01Error).code).toBe(ErrorCode.EngineDown);
    expect((err as Ds01Error).userMessage).toMatch(/try again/);
  });
});

describe('parseGpuList (nvidia-smi -L)', () => {
  it('lists full GPUs with no MIG devices', () => {
    const gpus = parseGpuList(A100X4_LIST);
    expect(gpus).toHaveLength(4);
    expect(gpus[3]).toEqual({ index: 3, name: 'NVIDIA A100-SXM4-40GB', uuid: 'GPU-9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4', mig: [] });
  });

  it('attaches indented MIG devices to the GPU above them', () => {
    const gpus = parseGpuList(MIG_LIST);
    expect(gpus[0]?.mig).toEqual([]);
    expect(gpus[1]?.mig).toEqual([
      { profile: '3g.40gb', device: 0, uuid: 'MIG-5c1c8a3e-2d4f-5b6a-9c8d-7e6f5a4b3c2d' },
      { profile: '2g.20gb', device: 1, uuid: 'MIG-a1b2c3d4-e5f6-5a7b-8c9d-0e1f2a3b4c5d' },
      { profile: '1g.10gb', device: 2, uuid: 'MIG-0f9e8d7c-6b5a-5948-8372-6150a4b3c2d1' },
      { profile: '1g.10gb', device: 3, uuid: 'MIG-d4c3b2a1-0f9e-58d7-9c6b-5a4938271605' },
    ]);
  });

  it('reads the old driver MIG UUID form and ignores unrelated lines', () => {
    const old =
      'No devices were found on bus 5\n' +
      'GPU 0: A100-SXM4-40GB (UUID: GPU-e91edf3b-b297-37c1-a2a7-7601c3238fa2)\n' +
      '  MIG 1g.5gb Device 0: (UUID: MIG-GPU-e91edf3b-b297-37c1-a2a7-7601c3238fa2/7/0)\n';
    const gpus = parseGpuList(old);
    expect(gpus).toHaveLength(1);
    expect(gpus[0]?.mig[0]).toEqual({ profile: '1g.5gb', device: 0, uuid: 'MIG-GPU-e91edf3b-b297-37c1-a2a7-7601c3238fa2/7/0' });
  });
});

describe('MIG GPU-equivalents', () => {
  it('weighs a slice by its compute slices out of 7', () => {
    expect(migProfileGpuEq('3g.40gb')).toBeCloseTo(3 / 7);
    expect(migProfileGpuEq('2g.20gb')).toBeCloseTo(2 / 7);
    expect(migProfileGpuEq('1g.10gb')).toBeCloseTo(1 / 7);
    expect(migProfileGpuEq('7g.80gb')).toBe(1);
  });

  it('counts compute slices for compute-instance profiles and ignores +me', () => {
    expect(migProfileGpuEq('1c.3g.20gb')).toBeCloseTo(1 / 7);
    expect(migProfileGpuEq('1g.10gb+me')).toBeCloseTo(1 / 7);
  });

  it('charges an unrecognised profile as a whole GPU', () => {
    expect(migProfileGpuEq('mystery')).toBe(1);
  });
});

describe('buildGpuSlots / parseGpuSlots', () => {
  it('gives each A100 one full slot numbered like DS01 labels', () => {
    const slots = parseGpuSlots(A100X4_QUERY, A100X4_LIST);
    expect(slots.map((s) => s.slot)).toEqual(['0', '1', '2', '3']);
    expect(slots.every((s) => s.kind === 'gpu' && s.gpuEq === 1 && s.memoryMiB === 40960)).toBe(true);
    expect(slots[2]).toEqual({
      uuid: 'GPU-1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718',
      slot: '2',
      index: 2,
      name: 'NVIDIA A100-SXM4-40GB',
      memoryMiB: 40960,
      kind: 'gpu',
      gpuEq: 1,
    });
  });

  it('replaces a MIG-enabled GPU by its slices, each with its profile and fraction', () => {
    const slots = parseGpuSlots(MIG_QUERY, MIG_LIST);
    expect(slots.map((s) => s.slot)).toEqual(['0', '1:0', '1:1', '1:2', '1:3']);
    expect(slots.some((s) => s.uuid === 'GPU-7f6e5d4c-3b2a-1908-f7e6-d5c4b3a29180')).toBe(false);
    const [full, s3g, s2g, s1g] = slots;
    expect(full).toMatchObject({ kind: 'gpu', gpuEq: 1 });
    expect(s3g).toMatchObject({
      kind: 'mig',
      profile: '3g.40gb',
      index: 1,
      uuid: 'MIG-5c1c8a3e-2d4f-5b6a-9c8d-7e6f5a4b3c2d',
      parentUuid: 'GPU-7f6e5d4c-3b2a-1908-f7e6-d5c4b3a29180',
      name: 'NVIDIA A100-SXM4-80GB MIG 3g.40gb',
      memoryMiB: null,
    });
    expect(s3g?.gpuEq).toBeCloseTo(3 / 7);
    expect(s2g?.gpuEq).toBeCloseTo(2 / 7);
    expect(s1g?.gpuEq).toBeCloseTo(1 / 7);
    // The slices of one GPU add up to the GPU.
    expect(slots.filter((s) => s.kind === 'mig').reduce((a, s) => a + s.gpuEq, 0)).toBeCloseTo(1);
  });

  it('contributes nothing for a MIG-enabled GPU with no instances created yet', () => {
    const noInstances = MIG_LIST.split('\n')
      .filter((l) => !l.includes('MIG '))
      .join('\n');
    const slots = buildGpuSlots(parseGpuQuery(MIG_QUERY), parseGpuList(noInstances));
    expect(slots.map((s) => s.slot)).toEqual(['0']);
  });

  it('reads an H100 as one full slot', () => {
    expect(parseGpuSlots(H100_QUERY, H100_LIST)).toEqual([
      {
        uuid: 'GPU-3e2d1c0b-a998-4877-b665-5443c3221100',
        slot: '0',
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        memoryMiB: 81559,
        kind: 'gpu',
        gpuEq: 1,
      },
    ]);
  });

  it('uses 4 slices per GPU on an A30', () => {
    const slots = parseGpuSlots('0, GPU-a30, NVIDIA A30, 24576, Enabled\n', 'GPU 0: NVIDIA A30 (UUID: GPU-a30)\n  MIG 2g.12gb     Device  0: (UUID: MIG-x)\n');
    expect(slots[0]?.gpuEq).toBeCloseTo(0.5);
  });
});

describe('parseUtilisation', () => {
  it('reads percentages per GPU UUID', () => {
    const util = parseUtilisation(A100X4_UTIL);
    expect(util.size).toBe(4);
    expect(util.get('GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77')).toBe(97);
    expect(util.get('GPU-8e6a9c21-4f0b-7d3e-b1a2-0c9f8e7d6c5b')).toBe(0);
  });

  it('leaves out MIG-mode GPUs that report [N/A] instead of crashing', () => {
    const util = parseUtilisation(MIG_UTIL);
    expect([...util.entries()]).toEqual([['GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0', 42]]);
  });

  it('tolerates [Not Supported], a % unit, odd spacing and a trailing newline', () => {
    const util = parseUtilisation('GPU-a,[Not Supported]\n  GPU-b ,  12 %  \nGPU-c, N/A\n\n');
    expect([...util.entries()]).toEqual([['GPU-b', 12]]);
  });

  it('recognises the not-available spellings', () => {
    for (const v of ['[N/A]', 'N/A', '[Not Supported]', '', ' [Unknown Error] ']) expect(isNotAvailable(v)).toBe(true);
    expect(isNotAvailable('0')).toBe(false);
  });
});

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeInventory, NvidiaSmiInventory, fakeGpuUuid, inventoryFor, parseGpuMode } from '../../workers/gpu/inventory.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';

const UUID_SHAPE = /^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

async function rejected(p: Promise<unknown>): Promise<Ds01Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Ds01Error);
  return err as Ds01Error;
}

describe('FakeInventory', () => {
  it('gives the same UUIDs every time for the same host', async () => {
    const a = await new FakeInventory(4, 'gpu-host-1').slots();
    const b = await new FakeInventory(4, 'gpu-host-1').slots();
    expect(a.map((s) => s.uuid)).toEqual(b.map((s) => s.uuid));
    expect(a[2]?.uuid).toBe(fakeGpuUuid('gpu-host-1', 2));
  });

  it('gives different hosts different UUIDs, and every GPU its own', async () => {
    const one = (await new FakeInventory(4, 'gpu-host-1').slots()).map((s) => s.uuid);
    const two = (await new FakeInventory(4, 'gpu-host-2').slots()).map((s) => s.uuid);
    expect(new Set([...one, ...two]).size).toBe(8);
  });

  it('shapes UUIDs like real GPU UUIDs and describes full fake GPUs', async () => {
    const slots = await new FakeInventory(2, 'laptop').slots();
    for (const s of slots) expect(s.uuid).toMatch(UUID_SHAPE);
    expect(slots.map((s) => [s.slot, s.index, s.name, s.kind, s.gpuEq])).toEqual([
      ['0', 0, 'Fake GPU', 'gpu', 1],
      ['1', 1, 'Fake GPU', 'gpu', 1],
    ]);
  });

  it('reports 0 % by default and uses an injected utilisation source when given', async () => {
    const idle = new FakeInventory(2, 'h');
    expect([...(await idle.utilisation()).values()]).toEqual([0, 0]);
    const busy = new FakeInventory(2, 'h', async () => new Map([[fakeGpuUuid('h', 0), 88]]));
    expect((await busy.utilisation()).get(fakeGpuUuid('h', 0))).toBe(88);
    expect(busy.mode).toBe('fake');
  });

  it('has no GPUs for fake:0', async () => {
    expect(await new FakeInventory(0, 'cpu-only').slots()).toEqual([]);
  });
});

describe('parseGpuMode (DS01_GPUS)', () => {
  it('accepts nvidia and fake:N', () => {
    expect(parseGpuMode('nvidia')).toEqual({ mode: 'nvidia' });
    expect(parseGpuMode(' fake:4 ')).toEqual({ mode: 'fake', count: 4 });
    expect(parseGpuMode('FAKE:2')).toEqual({ mode: 'fake', count: 2 });
  });

  it.each(['', 'gpu', 'fake', 'fake:', 'fake:-1', 'fake:two', 'fake:1.5', 'fake:999', 'nvidia:4'])('refuses %j with a message that says what to set instead', (value) => {
    const err = caught(() => parseGpuMode(value));
    expect(err).toBeInstanceOf(Ds01Error);
    expect((err as Ds01Error).code).toBe(ErrorCode.Config);
    expect((err as Ds01Error).userMessage).toContain('`nvidia`');
    expect((err as Ds01Error).userMessage).toContain('fake:4');
  });

  it('builds the matching inventory', () => {
    expect(inventoryFor(parseGpuMode('fake:3'), 'h').mode).toBe('fake');
    expect(inventoryFor(parseGpuMode('nvidia'), 'h').mode).toBe('nvidia');
  });
});

describe('NvidiaSmiInventory', () => {
  let dir: string;
  let emptyDir: string;

  // A stand-in nvidia-smi that answers like a host with GPU 0 whole and GPU 1 in MIG mode.
  const script = `#!/bin/sh
case "$*" in
  "--query-gpu=index,uuid,name,memory.total,mig.mode.current --format=csv,noheader,nounits")
    printf '%s\\n' "0, GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0, NVIDIA A100-SXM4-80GB, 81920, Disabled" \\
                   "1, GPU-7f6e5d4c-3b2a-1908-f7e6-d5c4b3a29180, NVIDIA A100-SXM4-80GB, 81920, Enabled" ;;
  "-L")
    printf '%s\\n' "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0)" \\
                   "GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-7f6e5d4c-3b2a-1908-f7e6-d5c4b3a29180)" \\
                   "  MIG 3g.40gb     Device  0: (UUID: MIG-5c1c8a3e-2d4f-5b6a-9c8d-7e6f5a4b3c2d)" \\
                   "  MIG 2g.20gb     Device  1: (UUID: MIG-a1b2c3d4-e5f6-5a7b-8c9d-0e1f2a3b4c5d)" \\
                   "  MIG 1g.10gb     Device  2: (UUID: MIG-0f9e8d7c-6b5a-5948-8372-6150a4b3c2d1)" ;;
  "--query-gpu=uuid,utilization.gpu --format=csv,noheader,nounits")
    printf '%s\\n' "GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0, 37" "GPU-7f6e5d4c-3b2a-1908-f7e6-d5c4b3a29180, [N/A]" ;;
  *)
    echo "unexpected arguments: $*" >&2; exit 2 ;;
esac
`;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds01-nvsmi-'));
    emptyDir = mkdtempSync(join(tmpdir(), 'ds01-nopath-'));
    writeFileSync(join(dir, 'nvidia-smi'), script);
    chmodSync(join(dir, 'nvidia-smi'), 0o755);
    writeFileSync(join(dir, 'broken-smi'), '#!/bin/sh\necho "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver." >&2\nexit 9\n');
    chmodSync(join(dir, 'broken-smi'), 0o755);
    // Blocks on stdin (which stays open) until the timeout kills it.
    writeFileSync(join(dir, 'hung-smi'), '#!/bin/sh\nread line\n');
    chmodSync(join(dir, 'hung-smi'), 0o755);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
  });

  const withPath = (first: string): NodeJS.ProcessEnv => ({ ...process.env, PATH: `${first}:${process.env.PATH ?? ''}` });

  it('finds nvidia-smi on the given PATH and turns its output into slots', async () => {
    const inv = new NvidiaSmiInventory({ env: withPath(dir) });
    expect(inv.mode).toBe('nvidia');
    const slots = await inv.slots();
    expect(slots.map((s) => [s.slot, s.kind, s.profile ?? null])).toEqual([
      ['0', 'gpu', null],
      ['1:0', 'mig', '3g.40gb'],
      ['1:1', 'mig', '2g.20gb'],
      ['1:2', 'mig', '1g.10gb'],
    ]);
    expect(slots[2]?.gpuEq).toBeCloseTo(2 / 7);
  });

  it('reads utilisation and skips the MIG-mode GPU that reports [N/A]', async () => {
    const util = await new NvidiaSmiInventory({ env: withPath(dir) }).utilisation();
    expect([...util.entries()]).toEqual([['GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0', 37]]);
  });

  it('explains clearly when nvidia-smi is not installed', async () => {
    const err = await rejected(new NvidiaSmiInventory({ env: { PATH: emptyDir } }).slots());
    expect(err.code).toBe(ErrorCode.EngineDown);
    expect(err.userMessage).toMatch(/nvidia-smi/);
    expect(err.userMessage).toMatch(/isn't installed/);
    expect(err.userMessage).toMatch(/DS01 admins/);
    expect(err.retryable).toBe(false);
  });

  it('explains clearly when an explicit binary path does not exist', async () => {
    const err = await rejected(new NvidiaSmiInventory({ binary: join(emptyDir, 'nvidia-smi') }).utilisation());
    expect(err.code).toBe(ErrorCode.EngineDown);
  });

  it('reports a driver failure as retryable, keeping the driver text out of the user message', async () => {
    const err = await rejected(new NvidiaSmiInventory({ binary: join(dir, 'broken-smi') }).slots());
    expect(err.code).toBe(ErrorCode.EngineDown);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain("couldn't communicate with the NVIDIA driver");
    expect(err.userMessage).not.toContain('NVIDIA-SMI has failed');
    expect(err.userMessage).toMatch(/try again/);
  });

  it('gives up on a hung nvidia-smi after the timeout', async () => {
    const err = await rejected(new NvidiaSmiInventory({ binary: join(dir, 'hung-smi'), timeoutMs: 300 }).utilisation());
    expect(err.code).toBe(ErrorCode.EngineDown);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/timed out/);
  });
});

/**
 * Pure parsers for nvidia-smi output. No process spawning here (see inventory.ts).
 *
 *   nvidia-smi --query-gpu=index,uuid,name,memory.total,mig.mode.current --format=csv,noheader,nounits
 *   nvidia-smi -L
 *   nvidia-smi --query-gpu=uuid,utilization.gpu --format=csv,noheader,nounits
 *
 * A GPU with MIG enabled contributes its MIG instances (from `-L`), not itself; a GPU with MIG off (or
 * without MIG support, `[N/A]`) is one full slot. Slot ids follow DS01's `ds01.gpu.slots` label format:
 * "1" for full GPU 1, "1:0" for MIG device 0 on GPU 1.
 */
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';

export interface GpuSlot {
  /** GPU-… for a full GPU, MIG-… for a MIG instance (what NVIDIA_VISIBLE_DEVICES takes). */
  uuid: string;
  /** "0" for a full GPU, "1:0" for MIG instance 0 on GPU 1. */
  slot: string;
  /** Physical GPU index. */
  index: number;
  name: string;
  /** Total memory of a full GPU; null when not reported and for MIG instances (see `profile`). */
  memoryMiB: number | null;
  kind: 'gpu' | 'mig';
  /** MIG profile, e.g. "3g.40gb". */
  profile?: string;
  /** UUID of the physical GPU a MIG instance lives on. */
  parentUuid?: string;
  /** GPU-equivalents: 1.0 for a full GPU; a MIG instance's compute slices / slices per GPU (2g → 2/7). */
  gpuEq: number;
}

export type MigMode = 'enabled' | 'disabled' | 'unsupported';

export interface GpuQueryRow {
  index: number;
  uuid: string;
  name: string;
  memoryMiB: number | null;
  migMode: MigMode;
}

export interface ListedMigDevice {
  profile: string;
  /** The "Device N" number, i.e. the MIG instance's position on its GPU. */
  device: number;
  uuid: string;
}

export interface ListedGpu {
  index: number;
  name: string;
  uuid: string;
  mig: ListedMigDevice[];
}

/** Values nvidia-smi prints where a field doesn't apply, e.g. `[N/A]`, `[Not Supported]`. */
export function isNotAvailable(value: string): boolean {
  const v = value
    .trim()
    .replace(/^\[|\]$/g, '')
    .trim()
    .toLowerCase();
  return v === '' || v === 'n/a' || v === 'not supported' || v === 'unknown error' || v === 'insufficient permissions';
}

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

function unreadable(what: string, line: string): Ds01Error {
  return new Ds01Error(
    ErrorCode.EngineDown,
    "I couldn't make sense of the GPU list this host's NVIDIA driver reported, so I didn't start anything. " +
      'Please try again in a minute, and if it keeps happening tell the DS01 admins.',
    { detail: `unexpected ${what} line from nvidia-smi: ${JSON.stringify(line)}`, retryable: true },
  );
}

function parseMigMode(value: string): MigMode {
  if (isNotAvailable(value)) return 'unsupported';
  const v = value.trim().toLowerCase();
  if (v === 'enabled') return 'enabled';
  if (v === 'disabled') return 'disabled';
  return 'unsupported';
}

/** Parses `--query-gpu=index,uuid,name,memory.total,mig.mode.current --format=csv,noheader,nounits`. */
export function parseGpuQuery(csv: string): GpuQueryRow[] {
  const rows: GpuQueryRow[] = [];
  for (const line of lines(csv)) {
    const parts = line.split(',').map((p) => p.trim());
    // Tolerate a header row if someone forgot `noheader`.
    if (parts[0]?.toLowerCase() === 'index') continue;
    if (parts.length < 5) throw unreadable('--query-gpu', line);
    const index = Number(parts[0]);
    const uuid = parts[1] ?? '';
    // Names have no commas today; if one ever does, keep it whole.
    const name = parts.slice(2, -2).join(', ');
    const memory = parts[parts.length - 2] ?? '';
    const mig = parts[parts.length - 1] ?? '';
    if (!Number.isInteger(index) || index < 0 || uuid === '' || isNotAvailable(uuid)) throw unreadable('--query-gpu', line);
    const memoryMiB = isNotAvailable(memory) ? null : Number(memory);
    rows.push({
      index,
      uuid,
      name,
      memoryMiB: memoryMiB !== null && Number.isFinite(memoryMiB) ? memoryMiB : null,
      migMode: parseMigMode(mig),
    });
  }
  return rows.sort((a, b) => a.index - b.index);
}

const GPU_LINE = /^GPU\s+(\d+):\s*(.*?)\s*\(UUID:\s*([^)\s]+)\s*\)\s*$/;
const MIG_LINE = /^MIG\s+(\S+)\s+Device\s+(\d+):\s*\(UUID:\s*([^)\s]+)\s*\)\s*$/;

/** Parses `nvidia-smi -L`, including the indented MIG device lines under each GPU. Other lines are ignored. */
export function parseGpuList(text: string): ListedGpu[] {
  const gpus: ListedGpu[] = [];
  let current: ListedGpu | undefined;
  for (const line of lines(text)) {
    const gpu = GPU_LINE.exec(line);
    if (gpu) {
      current = { index: Number(gpu[1]), name: gpu[2] ?? '', uuid: gpu[3] ?? '', mig: [] };
      gpus.push(current);
      continue;
    }
    const mig = MIG_LINE.exec(line);
    if (mig && current) {
      current.mig.push({ profile: mig[1] ?? '', device: Number(mig[2]), uuid: mig[3] ?? '' });
    }
  }
  for (const g of gpus) g.mig.sort((a, b) => a.device - b.device);
  return gpus.sort((a, b) => a.index - b.index);
}

/** Compute slices per physical GPU: 4 on an A30, 7 on A100/H100/H200 (DS01's default). */
export function migSlicesPerGpu(gpuName: string): number {
  return /\bA30\b/i.test(gpuName) ? 4 : 7;
}

/**
 * GPU-equivalents of a MIG profile: its compute slices over the GPU's slices.
 * "3g.40gb" → 3/7; compute-instance profiles like "1c.3g.20gb" count their compute slices (1/7);
 * "+me" suffixes are ignored. An unrecognised profile is charged as a full GPU, never as free.
 */
export function migProfileGpuEq(profile: string, slicesPerGpu = 7): number {
  const m = /^(?:(\d+)c\.)?(\d+)g\./i.exec(profile.trim());
  if (!m) return 1;
  const slices = Number(m[1] ?? m[2]);
  if (!Number.isFinite(slices) || slices <= 0 || slicesPerGpu <= 0) return 1;
  return Math.min(1, slices / slicesPerGpu);
}

/** Combines the query rows and the `-L` listing into allocatable slots, ordered by GPU then MIG device. */
export function buildGpuSlots(rows: GpuQueryRow[], listed: ListedGpu[]): GpuSlot[] {
  const slots: GpuSlot[] = [];
  for (const row of [...rows].sort((a, b) => a.index - b.index)) {
    if (row.migMode !== 'enabled') {
      slots.push({ uuid: row.uuid, slot: String(row.index), index: row.index, name: row.name, memoryMiB: row.memoryMiB, kind: 'gpu', gpuEq: 1 });
      continue;
    }
    const gpu = listed.find((g) => g.uuid === row.uuid) ?? listed.find((g) => g.index === row.index);
    const perGpu = migSlicesPerGpu(row.name);
    for (const dev of gpu?.mig ?? []) {
      slots.push({
        uuid: dev.uuid,
        slot: `${row.index}:${dev.device}`,
        index: row.index,
        name: `${row.name} MIG ${dev.profile}`,
        memoryMiB: null,
        kind: 'mig',
        profile: dev.profile,
        parentUuid: row.uuid,
        gpuEq: migProfileGpuEq(dev.profile, perGpu),
      });
    }
  }
  return slots;
}

/** Convenience: both outputs in, slots out. */
export function parseGpuSlots(queryCsv: string, listText: string): GpuSlot[] {
  return buildGpuSlots(parseGpuQuery(queryCsv), parseGpuList(listText));
}

/**
 * Parses `--query-gpu=uuid,utilization.gpu --format=csv,noheader,nounits` into uuid → percent.
 * GPUs that report `[N/A]` / `[Not Supported]` (MIG mode does) are left out rather than guessed.
 */
export function parseUtilisation(csv: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of lines(csv)) {
    const parts = line.split(',').map((p) => p.trim());
    const uuid = parts[0] ?? '';
    const value = (parts[1] ?? '').replace(/\s*%$/, '');
    if (uuid === '' || uuid.toLowerCase() === 'uuid' || isNotAvailable(value)) continue;
    const percent = Number(value);
    if (Number.isFinite(percent)) out.set(uuid, percent);
  }
  return out;
}

/**
 * What GPUs this host has, and how busy they are.
 *
 * `NvidiaSmiInventory` asks the driver (nvidia-smi via execFile, never a shell). `FakeInventory` pretends, for
 * laptops and CI: its UUIDs are derived from the host id and index, so they stay the same across restarts
 * (labels written by one run still match the next) and differ between hosts.
 * `DS01_GPUS` picks one: `nvidia` or `fake:N`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { type GpuSlot, parseGpuList, parseGpuQuery, buildGpuSlots, parseUtilisation } from './nvidia-smi.js';

export interface GpuInventory {
  slots(): Promise<GpuSlot[]>;
  /** uuid → utilisation percent. GPUs that don't report (e.g. in MIG mode) are absent. */
  utilisation(): Promise<Map<string, number>>;
  readonly mode: 'nvidia' | 'fake';
}

// ---------------------------------------------------------------------------------------------------------
// nvidia-smi

export const QUERY_GPU_ARGS = ['--query-gpu=index,uuid,name,memory.total,mig.mode.current', '--format=csv,noheader,nounits'] as const;
export const LIST_GPU_ARGS = ['-L'] as const;
export const QUERY_UTILISATION_ARGS = ['--query-gpu=uuid,utilization.gpu', '--format=csv,noheader,nounits'] as const;

export interface NvidiaSmiOptions {
  /** The binary to run; a bare name is looked up on `env.PATH`. Default `nvidia-smi`. */
  binary?: string;
  /** Environment for the child (its PATH is used to find `binary`). Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Per-call limit. Default 15 s (nvidia-smi can be slow while the driver initialises). */
  timeoutMs?: number;
}

export class NvidiaSmiInventory implements GpuInventory {
  readonly mode = 'nvidia' as const;
  private readonly binary: string;
  private readonly env: NodeJS.ProcessEnv | undefined;
  private readonly timeoutMs: number;

  constructor(opts: NvidiaSmiOptions = {}) {
    this.binary = opts.binary ?? 'nvidia-smi';
    this.env = opts.env;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  async slots(): Promise<GpuSlot[]> {
    const [query, list] = await Promise.all([this.run(QUERY_GPU_ARGS), this.run(LIST_GPU_ARGS)]);
    return buildGpuSlots(parseGpuQuery(query), parseGpuList(list));
  }

  async utilisation(): Promise<Map<string, number>> {
    return parseUtilisation(await this.run(QUERY_UTILISATION_ARGS));
  }

  private run(args: readonly string[]): Promise<string> {
    const command = `${this.binary} ${args.join(' ')}`;
    return new Promise((resolve, reject) => {
      execFile(
        this.binary,
        [...args],
        { env: this.env ?? process.env, timeout: this.timeoutMs, maxBuffer: 4 * 1024 * 1024, windowsHide: true, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (!err) {
            resolve(stdout);
            return;
          }
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: NodeJS.Signals | null };
          if (e.code === 'ENOENT' || e.code === 'EACCES') {
            reject(
              new Ds01Error(
                ErrorCode.EngineDown,
                `I couldn't check the GPUs on this host because \`${this.binary}\` ${e.code === 'ENOENT' ? "isn't installed here or isn't on the worker's PATH" : "isn't allowed to run"}. ` +
                  'Nothing was started. Please let the DS01 admins know; GPU launches on this host will fail until the NVIDIA tools are back.',
                { cause: err, detail: `${command}: ${e.code}`, retryable: false },
              ),
            );
            return;
          }
          if (e.killed || e.signal) {
            reject(
              new Ds01Error(
                ErrorCode.EngineDown,
                `The NVIDIA driver on this host didn't answer in time (nvidia-smi took over ${Math.round(this.timeoutMs / 1000)} s). ` +
                  'Nothing was started. Please try again in a minute, and tell the DS01 admins if it keeps happening.',
                { cause: err, detail: `${command}: timed out after ${this.timeoutMs} ms (signal ${e.signal ?? 'none'})`, retryable: true },
              ),
            );
            return;
          }
          const why =
            String(stderr || stdout || err.message)
              .trim()
              .split('\n')[0] ?? '';
          reject(
            new Ds01Error(
              ErrorCode.EngineDown,
              'The NVIDIA driver on this host reported an error when I asked for the GPU list, so nothing was started. ' +
                'Please try again in a minute, and if it keeps happening tell the DS01 admins — the driver may need attention.',
              { cause: err, detail: `${command}: exit ${String(e.code)}: ${why}`, retryable: true },
            ),
          );
        },
      );
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Fake

/** A stable, GPU-…-shaped UUID for fake GPU `index` on `hostId` (sha256-derived; same inputs, same UUID). */
export function fakeGpuUuid(hostId: string, index: number): string {
  const hex = createHash('sha256').update(`ds01-fake-gpu\0${hostId}\0${index}`).digest('hex');
  return `GPU-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export class FakeInventory implements GpuInventory {
  readonly mode = 'fake' as const;
  private readonly fakeSlots: readonly GpuSlot[];

  constructor(
    count: number,
    readonly hostId: string,
    private readonly utilisationSource?: () => Promise<Map<string, number>>,
  ) {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`FakeInventory count must be a whole number ≥ 0, got ${count}`);
    this.fakeSlots = Array.from({ length: count }, (_, index) => ({
      uuid: fakeGpuUuid(hostId, index),
      slot: String(index),
      index,
      name: 'Fake GPU',
      memoryMiB: 40960,
      kind: 'gpu' as const,
      gpuEq: 1,
    }));
  }

  async slots(): Promise<GpuSlot[]> {
    return this.fakeSlots.map((s) => ({ ...s }));
  }

  /** From `utilisationSource` when given; otherwise every fake GPU reads 0 %. */
  async utilisation(): Promise<Map<string, number>> {
    if (this.utilisationSource) return this.utilisationSource();
    return new Map(this.fakeSlots.map((s) => [s.uuid, 0]));
  }
}

// ---------------------------------------------------------------------------------------------------------
// DS01_GPUS

export type GpuMode = { mode: 'nvidia' } | { mode: 'fake'; count: number };

export const MAX_FAKE_GPUS = 64;

const gpuModeSchema = z.union([
  z.literal('nvidia').transform((): GpuMode => ({ mode: 'nvidia' })),
  z
    .string()
    .regex(/^fake:\d+$/)
    .transform((v): GpuMode => ({ mode: 'fake', count: Number(v.slice('fake:'.length)) }))
    .refine((m) => m.mode === 'fake' && m.count <= MAX_FAKE_GPUS),
]);

/** Parses `DS01_GPUS`: `nvidia` (real GPUs via nvidia-smi) or `fake:N` (N pretend GPUs, 0–64). */
export function parseGpuMode(value: string): GpuMode {
  const parsed = gpuModeSchema.safeParse(value.trim().toLowerCase());
  if (parsed.success) return parsed.data;
  throw new Ds01Error(
    ErrorCode.Config,
    `DS01_GPUS is set to ${JSON.stringify(value)}, which I don't understand. ` +
      `Set it to \`nvidia\` to use this host's real GPUs, or \`fake:N\` (for example \`fake:4\`, at most ${MAX_FAKE_GPUS}) to pretend to have N GPUs, then restart the worker.`,
    { detail: `invalid DS01_GPUS=${JSON.stringify(value)}` },
  );
}

/** The inventory for a parsed `DS01_GPUS`. */
export function inventoryFor(mode: GpuMode, hostId: string, nvidia: NvidiaSmiOptions = {}): GpuInventory {
  return mode.mode === 'nvidia' ? new NvidiaSmiInventory(nvidia) : new FakeInventory(mode.count, hostId);
}

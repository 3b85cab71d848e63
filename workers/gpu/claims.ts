/**
 * Which GPUs a container holds, read from what the engine will actually give it — not only from what
 * its labels say. Three sources, unioned (a container can add a GPU by any of them, and cannot free
 * one by leaving a label out or writing a wrong one):
 *  - DS01's labels (`ds01.gpu.uuids` / `ds01.gpu.uuid`);
 *  - the container's device requests (`docker run --gpus`, compose `deploy.resources...devices`,
 *    VS Code devcontainers' `--gpus`): DeviceIDs, or Count (the first N GPUs; -1 for all);
 *  - `NVIDIA_VISIBLE_DEVICES` in its environment, which the NVIDIA runtime honours. An image may
 *    set it to `all` (the CUDA base images do) without the container getting any GPU under runc,
 *    so `all` counts only when the container runs under the `nvidia` runtime; named devices
 *    always count (the bot errs towards a GPU being taken, never towards handing it out twice).
 * This module is pure: the engine facts come from workers/docker/engine.ts `gpuFacts`.
 */
import type { GpuSlot } from './nvidia-smi.js';

export interface EngineGpuFacts {
  /** One entry per GPU device request (driver nvidia or capability gpu). */
  requests: Array<{ deviceIds: string[]; count: number }>;
  /** The container's NVIDIA_VISIBLE_DEVICES, or null when unset. */
  visibleDevices: string | null;
  /** The OCI runtime the engine runs it with (runc, nvidia, …). */
  runtime: string;
}

const MAX_TOKENS = 64;

/** Resolves one device token (an index, `gpu:mig`, a GPU-/MIG- UUID) to slot UUIDs; unknown tokens stay as they are. */
function resolveToken(slots: GpuSlot[], token: string): string[] {
  const t = token.trim();
  if (!t) return [];
  const byUuid = slots.filter((s) => s.uuid === t || s.parentUuid === t);
  if (byUuid.length) return byUuid.map((s) => s.uuid);
  if (/^\d{1,4}$/.test(t)) {
    const onGpu = slots.filter((s) => s.index === Number(t));
    if (onGpu.length) return onGpu.map((s) => s.uuid);
  }
  const bySlot = slots.find((s) => s.slot === t);
  if (bySlot) return [bySlot.uuid];
  // A GPU this host does not list (another layout, a typo): still a claim, counted as a full GPU.
  return [t.slice(0, 80)];
}

function firstGpus(slots: GpuSlot[], count: number): string[] {
  const indices = [...new Set(slots.map((s) => s.index))].sort((a, b) => a - b);
  const chosen = new Set(count < 0 ? indices : indices.slice(0, count));
  const out = slots.filter((s) => chosen.has(s.index)).map((s) => s.uuid);
  // Asked for more GPUs than the host lists: the excess is still claimed.
  for (let i = indices.length; count > 0 && i < count; i++) out.push(`unlisted-gpu-${i}`);
  return out;
}

function fromList(slots: GpuSlot[], list: string): string[] {
  const v = list.trim();
  if (v === '' || v === 'none' || v === 'void') return [];
  if (v === 'all') return slots.map((s) => s.uuid);
  return v.split(',', MAX_TOKENS).flatMap((t) => resolveToken(slots, t));
}

/** The GPU UUIDs (slot UUIDs where known) the engine gives this container, unioned with its labels. */
export function claimedUuids(slots: GpuSlot[], labelUuids: string[], facts: EngineGpuFacts | null): string[] {
  const out = new Set<string>();
  for (const u of labelUuids) for (const r of resolveToken(slots, u)) out.add(r);
  if (facts) {
    for (const req of facts.requests) {
      const ids = req.deviceIds.filter((d) => d.trim() !== '');
      const got = ids.length ? ids.slice(0, MAX_TOKENS).flatMap((d) => fromList(slots, d)) : req.count !== 0 ? firstGpus(slots, req.count) : [];
      for (const u of got) out.add(u);
    }
    const env = facts.visibleDevices;
    if (env !== null && (env.trim() !== 'all' || facts.runtime === 'nvidia')) for (const u of fromList(slots, env)) out.add(u);
  }
  return [...out];
}

/**
 * GPU allocation the DS01 way: no allocator state of its own. Who holds what comes only from the containers'
 * labels (`ds01.gpu.uuids`), which the caller reads and passes in as `holders`; this module is pure.
 *
 * Checks, in order: GPUs per container → containers per user → GPU-equivalent quota → free slots.
 * Choice: full GPUs before MIG slices, then the least-allocated physical GPU, then slot order — recomputed after
 * every pick so a multi-GPU request spreads out. Every call should run under the host's allocation lock, since
 * two launches reading the same labels would otherwise both see the same GPU free.
 */
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import type { UserLimits } from '../../src/limits/resource-limits.js';
import type { GpuSlot } from './nvidia-smi.js';

export interface GpuHolder {
  container: string;
  user: string;
  /** UUIDs from the container's labels: GPU-… for full GPUs, MIG-… for MIG instances. */
  gpuUuids: string[];
}

export interface GpuRequest {
  user: string;
  /** How many GPU slots (full GPUs or MIG instances) the container wants. */
  count: number;
}

export interface AllocationInput {
  slots: GpuSlot[];
  /** Containers on this host currently holding GPUs (running, or stopped but still within their hold). */
  holders: GpuHolder[];
  request: GpuRequest;
  limits: UserLimits;
  /** The user's containers that count against `maxContainersPerUser`. */
  userContainerCount: number;
  /** Host name for messages. */
  host?: string;
}

export interface Allocation {
  slots: GpuSlot[];
  gpuEq: number;
}

const EPS = 1e-9;

/** Formats GPU-equivalents for people: 2 → "2", 0.2857… → "0.29". */
export function formatGpuEq(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(2).replace(/0$/, '');
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function slotOrder(a: GpuSlot, b: GpuSlot): number {
  if (a.index !== b.index) return a.index - b.index;
  const ai = Number(a.slot.split(':')[1] ?? -1);
  const bi = Number(b.slot.split(':')[1] ?? -1);
  return ai - bi || a.uuid.localeCompare(b.uuid);
}

/** UUID → slot; a holder label naming the parent GPU of a MIG-enabled card maps to all its slices. */
function heldUuidSet(slots: GpuSlot[], holders: GpuHolder[]): Set<string> {
  const held = new Set<string>();
  for (const h of holders) {
    for (const uuid of h.gpuUuids) {
      held.add(uuid);
      for (const s of slots) if (s.parentUuid === uuid) held.add(s.uuid);
    }
  }
  return held;
}

/**
 * GPU-equivalents a set of holders has. A UUID this host no longer lists (a GPU that vanished, a MIG
 * layout that changed) counts as a full GPU: the quota errs towards fairness, never towards free GPUs.
 */
export function heldGpuEq(slots: GpuSlot[], holders: GpuHolder[]): number {
  const byUuid = new Map(slots.map((s) => [s.uuid, s]));
  let total = 0;
  const counted = new Set<string>();
  for (const h of holders) {
    for (const uuid of h.gpuUuids) {
      if (counted.has(uuid)) continue;
      counted.add(uuid);
      total += byUuid.get(uuid)?.gpuEq ?? 1;
    }
  }
  return total;
}

function unitWord(slots: GpuSlot[]): { one: string; many: string } {
  return slots.some((s) => s.kind === 'mig') ? { one: 'GPU slot', many: 'GPU slots' } : { one: 'GPU', many: 'GPUs' };
}

/**
 * Picks up to `count` slots from `free`: full GPUs first, then the physical GPU with the fewest allocated
 * slots, then slot order; skips slots that would push the total past `budget`.
 */
function pick(free: GpuSlot[], allocatedPerGpu: Map<number, number>, count: number, budget: number, order: 'preferred' | 'smallest'): GpuSlot[] {
  const remaining = [...free];
  const load = new Map(allocatedPerGpu);
  const chosen: GpuSlot[] = [];
  let used = 0;
  while (chosen.length < count) {
    remaining.sort((a, b) => {
      if (order === 'smallest' && a.gpuEq !== b.gpuEq) return a.gpuEq - b.gpuEq;
      if (a.kind !== b.kind) return a.kind === 'gpu' ? -1 : 1;
      const la = load.get(a.index) ?? 0;
      const lb = load.get(b.index) ?? 0;
      return la - lb || slotOrder(a, b);
    });
    const i = remaining.findIndex((s) => used + s.gpuEq <= budget + EPS);
    if (i < 0) break;
    const [slot] = remaining.splice(i, 1);
    if (!slot) break;
    chosen.push(slot);
    used += slot.gpuEq;
    load.set(slot.index, (load.get(slot.index) ?? 0) + 1);
  }
  return chosen;
}

/** Chooses GPUs for a launch, or throws a Ds01Error telling the user what to do instead. */
export function allocateGpus(input: AllocationInput): Allocation {
  const { slots, holders, request, limits, userContainerCount } = input;
  const host = input.host ?? 'this server';
  const group = limits.group;
  const units = unitWord(slots);
  const count = request.count;

  // 1. GPUs per container.
  const perContainer = limits.maxGpuSlotsPerContainer;
  if (!Number.isInteger(count) || count < 1) {
    throw new Ds01Error(
      ErrorCode.TooManyGpus,
      `A launch needs at least 1 GPU, and you asked for ${count}. Ask for 1${perContainer === null ? ' or more' : perContainer > 1 ? ` to ${perContainer}` : ''} and try again.`,
    );
  }
  if (perContainer !== null && count > perContainer) {
    throw new Ds01Error(
      ErrorCode.TooManyGpus,
      perContainer === 0
        ? `Your group (${group}) doesn't include GPUs, so I can't launch a container with ${plural(count, 'GPU', 'GPUs')}. If you need one, ask the DS01 admins.`
        : `You asked for ${plural(count, 'GPU', 'GPUs')}, but your group (${group}) allows at most ${perContainer} per container. ` +
            `Ask for ${perContainer === 1 ? '1' : `${perContainer} or fewer`} and try again.`,
    );
  }

  // 2. Containers per user.
  const maxContainers = limits.maxContainersPerUser;
  if (maxContainers !== null && userContainerCount >= maxContainers) {
    throw new Ds01Error(
      ErrorCode.QuotaReached,
      `You already have ${plural(userContainerCount, 'container', 'containers')} running, the most your group (${group}) allows. ` +
        'Retire one with `/ds01 retire <project>` and try again.',
    );
  }

  // 3. GPU-equivalent quota. What's needed is at least the cheapest slots that could be given: the cheapest
  //    free ones when there are enough, else the cheapest on the host (so a full host still reports the quota).
  const held = heldUuidSet(slots, holders);
  const free = slots.filter((s) => !held.has(s.uuid));
  const mine = holders.filter((h) => h.user === request.user);
  const heldByUser = heldGpuEq(slots, mine);
  const cap = limits.maxGpuEquivalents;
  const budget = cap === null ? Number.POSITIVE_INFINITY : cap - heldByUser;
  const weights = (free.length >= count ? free : slots).map((s) => s.gpuEq).sort((a, b) => a - b);
  let minimumNeed = 0;
  for (let i = 0; i < count; i++) minimumNeed += weights[i] ?? 1;
  if (cap !== null && heldByUser + minimumNeed > cap + EPS) {
    const fractional = [minimumNeed, heldByUser, cap].some((n) => Math.abs(n - Math.round(n)) > EPS);
    const unit = fractional ? 'GPU-equivalents' : 'GPUs';
    throw new Ds01Error(
      ErrorCode.QuotaReached,
      `You're already using ${formatGpuEq(heldByUser)} of the ${formatGpuEq(cap)} ${unit} your group (${group}) allows at once, ` +
        `and this launch needs ${fractional ? 'at least ' : ''}${formatGpuEq(minimumNeed)} more. ` +
        `Retire a container you've finished with (\`/ds01 retire <project>\`)${count > 1 ? ' or ask for fewer GPUs' : ''}, and try again.`,
    );
  }

  // 4. Free slots.
  const allocatedPerGpu = new Map<number, number>();
  for (const s of slots) if (held.has(s.uuid)) allocatedPerGpu.set(s.index, (allocatedPerGpu.get(s.index) ?? 0) + 1);

  let chosen = pick(free, allocatedPerGpu, count, budget, 'preferred');
  if (chosen.length < count) chosen = pick(free, allocatedPerGpu, count, budget, 'smallest');
  if (chosen.length < count) {
    // The cheapest free slots fit the quota (checked above), so the only way to get here is too few free slots.
    const total = slots.length;
    const message =
      free.length === 0
        ? `All ${plural(total, units.one, units.many)} on ${host} ${total === 1 ? 'is' : 'are'} in use right now. `
        : `Only ${free.length} of the ${plural(total, units.one, units.many)} on ${host} ${free.length === 1 ? 'is' : 'are'} free right now, and you asked for ${count}. `;
    throw new Ds01Error(
      ErrorCode.NoGpuFree,
      message +
        (total === 0
          ? 'Please try another host, or ask the DS01 admins.'
          : 'Nothing was started. Idle containers are stopped automatically, so please try again in a little while' +
            (free.length > 0 ? ' or ask for fewer GPUs' : '') +
            '; `/ds01 gpus` shows who is using them.'),
    );
  }

  chosen.sort(slotOrder);
  return { slots: chosen, gpuEq: chosen.reduce((sum, s) => sum + s.gpuEq, 0) };
}

export interface SlotSummary {
  slot: string;
  uuid: string;
  name: string;
  kind: GpuSlot['kind'];
  profile?: string;
  gpuEq: number;
  holder: { container: string; user: string } | null;
}

/** One row per slot, in slot order, with who holds it — for `/ds01 gpus`. */
export function allocationSummary(slots: GpuSlot[], holders: GpuHolder[]): SlotSummary[] {
  const holderOf = new Map<string, GpuHolder>();
  for (const h of holders) {
    for (const uuid of h.gpuUuids) {
      if (!holderOf.has(uuid)) holderOf.set(uuid, h);
    }
  }
  return [...slots].sort(slotOrder).map((s) => {
    const h = holderOf.get(s.uuid) ?? (s.parentUuid ? holderOf.get(s.parentUuid) : undefined);
    const row: SlotSummary = {
      slot: s.slot,
      uuid: s.uuid,
      name: s.name,
      kind: s.kind,
      gpuEq: s.gpuEq,
      holder: h ? { container: h.container, user: h.user } : null,
    };
    if (s.profile !== undefined) row.profile = s.profile;
    return row;
  });
}

/** DS01's high-demand test: allocated GPU-equivalents / total ≥ threshold (e.g. policies.highDemandThreshold). */
export function isHighDemand(slots: GpuSlot[], holders: GpuHolder[], threshold: number): boolean {
  const total = slots.reduce((sum, s) => sum + s.gpuEq, 0);
  if (total <= 0) return false;
  const held = heldUuidSet(slots, holders);
  const allocated = slots.filter((s) => held.has(s.uuid)).reduce((sum, s) => sum + s.gpuEq, 0);
  return allocated / total >= threshold - EPS;
}

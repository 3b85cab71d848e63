import type { HostSnapshot } from '../contract/hosts.js';
import type { UserLimits } from '../limits/resource-limits.js';

/**
 * Where a launch goes, decided by the bot from the hosts' snapshots (pure). The worker checks again
 * from the engine under its allocation lock, so a stale snapshot can make a launch wait, never
 * double-allocate.
 *
 *  - A host that already has the project's container: there (it is running, or gets replaced).
 *  - Workspaces local to one host (`workspaces_shared: false`): only the host with the project's image.
 *  - Otherwise the least-allocated host (held GPU-equivalents / total; a MIG slice is its fraction of 7)
 *    with enough free slots whose cheapest fit stays within the user's GPU quota — one that already
 *    has the project's image first, as that saves a build.
 *  - None fits: the launch waits in the GPU queue ("quota" when the user is at their quota, which
 *    waits for their own containers and blocks nobody; "no-gpu" otherwise). It still goes to a host
 *    first, which checks the project folder and builds the image while it waits; its turn in the
 *    queue is fixed now (its arrival number), not when the host gets to it.
 */
export type Placement =
  | { kind: 'host'; host: HostSnapshot }
  /** No room now: the launch goes to `via` (which checks the project and builds its image), then waits for a GPU. */
  | { kind: 'queue'; reason: 'no-gpu' | 'quota'; onHost: string | null; via: HostSnapshot }
  | { kind: 'refuse'; message: string };

export interface PlacementRequest {
  user: string;
  uid: number;
  project: string;
  gpus: number;
  limits: UserLimits;
  sharedWorkspaces: boolean;
}

const EPS = 1e-9;
const ACTIVE = new Set(['running', 'created', 'restarting', 'paused']);

export function allocatedShare(h: HostSnapshot): number {
  const total = h.gpus.reduce((s, g) => s + g.gpuEq, 0);
  if (total <= 0) return 1;
  return h.gpus.filter((g) => g.holder).reduce((s, g) => s + g.gpuEq, 0) / total;
}

/** What the user holds across all hosts (GPU-equivalents, and containers that count against their limit). */
export function holdingsOf(hosts: HostSnapshot[], user: string): { gpuEq: number; containers: number } {
  let gpuEq = 0;
  let containers = 0;
  for (const h of hosts) {
    for (const g of h.gpus) if (g.holder?.user === user) gpuEq += g.gpuEq;
    containers += h.containers.filter((c) => c.user === user && ACTIVE.has(c.state)).length;
  }
  return { gpuEq, containers };
}

export function placeLaunch(hosts: HostSnapshot[], req: PlacementRequest): Placement {
  const withContainer = hosts.find((h) => h.containers.some((c) => c.user === req.user && c.project === req.project && c.managed !== false));
  if (withContainer) return { kind: 'host', host: withContainer };
  // Too many GPUs for one container: refused at once, with the group's rule (nothing is queued).
  const perContainer = req.limits.maxGpuSlotsPerContainer;
  if (perContainer !== null && req.gpus > perContainer) {
    return {
      kind: 'refuse',
      message:
        perContainer === 0
          ? `Your group (${req.limits.group}) doesn't include GPUs, so nothing was queued. If you need one, ask the DS01 admins.`
          : `You asked for ${req.gpus} GPUs, but your group (${req.limits.group}) allows at most ${perContainer} per container, so nothing was queued. Ask for ${perContainer === 1 ? '1' : `${perContainer} or fewer`} and try again.`,
    };
  }

  const pinned = req.sharedWorkspaces ? null : (hosts.find((h) => h.images.some((i) => i.uid === req.uid && i.project === req.project))?.hostId ?? null);
  const pool = pinned ? hosts.filter((h) => h.hostId === pinned) : hosts;
  if (!pool.some((h) => h.gpus.length >= req.gpus)) {
    const most = Math.max(0, ...pool.map((h) => h.gpus.length));
    return {
      kind: 'refuse',
      message:
        most === 0
          ? `No online host${pinned ? ` that has your project (${pinned})` : ''} has any GPU, so nothing was queued. Please ask the DS01 admins.`
          : `No GPU host${pinned ? ` that has your project (${pinned})` : ''} has ${req.gpus} GPUs; the largest has ${most}. Ask for ${most} or fewer and try again.`,
    };
  }

  const held = holdingsOf(hosts, req.user);
  const maxContainers = req.limits.maxContainersPerUser;
  const via = leastAllocated(pool)!;
  if (maxContainers !== null && held.containers >= maxContainers) return { kind: 'queue', reason: 'quota', onHost: pinned, via };
  const cap = req.limits.maxGpuEquivalents;
  const budget = cap === null ? Number.POSITIVE_INFINITY : cap - held.gpuEq;

  const fits = pool.filter((h) => {
    const free = h.gpus
      .filter((g) => !g.holder)
      .map((g) => g.gpuEq)
      .sort((a, b) => a - b);
    if (free.length < req.gpus) return false;
    return free.slice(0, req.gpus).reduce((s, x) => s + x, 0) <= budget + EPS;
  });
  // Among hosts with room, one that already has the project's image saves a build.
  const withImage = fits.filter((h) => h.images.some((i) => i.uid === req.uid && i.project === req.project));
  if (withImage.length > 0) return { kind: 'host', host: leastAllocated(withImage)! };
  if (fits.length > 0) return { kind: 'host', host: leastAllocated(fits)! };
  // Could a free host fit it at all, quota aside? Then the quota is what stops it.
  const cheapestAnywhere = Math.min(
    ...pool.map((h) =>
      [...h.gpus.map((g) => g.gpuEq)]
        .sort((a, b) => a - b)
        .slice(0, req.gpus)
        .reduce((s, x) => s + x, 0),
    ),
  );
  if (cap !== null && held.gpuEq + cheapestAnywhere > cap + EPS) return { kind: 'queue', reason: 'quota', onHost: pinned, via };
  return { kind: 'queue', reason: 'no-gpu', onHost: pinned, via };
}

function leastAllocated(hosts: HostSnapshot[]): HostSnapshot | undefined {
  const freeEq = (h: HostSnapshot) => h.gpus.filter((g) => !g.holder).reduce((s, g) => s + g.gpuEq, 0);
  return [...hosts].sort((a, b) => allocatedShare(a) - allocatedShare(b) || freeEq(b) - freeEq(a) || a.hostId.localeCompare(b.hostId))[0];
}

import type { KnownBlock } from '@slack/types';
import type { HostSnapshot } from '../../contract/hosts.js';
import type { UserLimits } from '../../limits/resource-limits.js';
import type { QueueEntry } from '../../queue/gpu-queue.js';
import { myPlaces, waited } from './queue.js';

const MAX_LINES = 20;
function capped(lines: string[]): string {
  return lines.length <= MAX_LINES ? lines.join('\n') : `${lines.slice(0, MAX_LINES).join('\n')}\n…and ${lines.length - MAX_LINES} more.`;
}

/** `/ds01 status`: the user's containers and images across hosts. */
export function statusMessage(user: string, hosts: HostSnapshot[], queue: QueueEntry[] = []): { text: string; blocks: KnownBlock[] } {
  const lines: string[] = [];
  for (const h of hosts) {
    const gpuByUuid = new Map(h.gpus.map((g) => [g.uuid, g]));
    for (const c of h.containers.filter((c) => c.user === user)) {
      const gpus = c.gpuUuids.map((u) => `GPU ${gpuByUuid.get(u)?.slot ?? '?'}`).join(', ') || 'no GPU';
      lines.push(
        `• \`${c.project}\` — *${c.state}* on ${h.hostId}, ${gpus}${c.createdAt ? `, since ${c.createdAt.slice(0, 16).replace('T', ' ')} UTC` : ''}${c.protected ? ' (protected)' : ''}`,
      );
    }
  }
  const images: string[] = [];
  for (const h of hosts) for (const i of h.images.filter((i) => i.user === user)) images.push(`• \`${i.image}\` on ${h.hostId}`);
  // A section's text is at most 3000 characters: long lists are cut with a count.
  const text = lines.length ? `*Your containers*\n${capped(lines)}` : 'You have no containers right now. Start one with `/ds01 launch <project>`.';
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text } }];
  if (images.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Your images*\n${capped(images)}` } });
  const places = myPlaces(queue, user);
  if (places.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Waiting for a GPU*\n${places.join('\n')}` } });
  if (hosts.length === 0) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: ':warning: No GPU host has reported in, so this may be incomplete.' }] });
  return { text, blocks };
}

/** In-container packages of retired containers: reached an image first, or lost (admins' `/ds01 gpus`). */
export interface PackageShare {
  added: number;
  lost: number;
}

export function packageShareLine(s: PackageShare): string {
  const total = s.added + s.lost;
  if (total === 0) return 'Packages installed inside containers: none counted at a retirement yet.';
  return `Packages installed inside containers that reached an image before their container was retired: ${s.added} of ${total} (${Math.round((s.added / total) * 100)} %).`;
}

/**
 * `/ds01 gpus`: every GPU (or MIG slice) on every host: free, or held by whom, for which project, for
 * how long; down hosts as down; for admins, the package-notice share too.
 */
export function gpusMessage(hosts: HostSnapshot[], packageShare?: PackageShare, down: string[] = [], now = Date.now()): { text: string; blocks: KnownBlock[] } {
  const adminLine: KnownBlock[] = packageShare ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: packageShareLine(packageShare) }] }] : [];
  if (hosts.length === 0) {
    const text = `No GPU host has reported in right now${down.length ? ` (${down.join(', ')} ${down.length === 1 ? 'is' : 'are'} down)` : ''}, so I cannot show the GPUs. Please tell the DS01 admins.`;
    return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }, ...adminLine] };
  }
  const blocks: KnownBlock[] = [];
  const summary: string[] = [];
  for (const h of hosts) {
    const free = h.gpus.filter((g) => !g.holder).length;
    summary.push(`${h.hostId}: ${free}/${h.gpus.length} free`);
    const lines = h.gpus.map((g) => {
      const what = `• GPU ${g.slot} ${g.name}${g.gpuEq < 1 ? ` (${g.gpuEq.toFixed(2)} GPU)` : ''}`;
      if (!g.holder) return `${what} — *free*`;
      const hd = g.holder;
      const outside = hd.managed === false ? ', outside DS01' : '';
      const since = hd.since && Number.isFinite(Date.parse(hd.since)) ? `, for ${waited(hd.since, now)}` : '';
      return `${what} — ${hd.user}, \`${hd.project ?? hd.container}\` (\`${hd.container}\`${outside})${since}`;
    });
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*${h.hostId}* — ${free} of ${h.gpus.length} free${h.gpuMode === 'fake' ? ' (simulated GPUs)' : ''}\n${lines.join('\n') || 'no GPUs found'}` },
    });
  }
  for (const id of down) {
    summary.push(`${id}: down`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*${id}* — :red_circle: down (its worker stopped reporting); new launches go to other hosts.` } });
  }
  return { text: `GPUs — ${summary.join('; ')}`, blocks: [...blocks, ...adminLine] };
}

const hours = (h: number | null) => (h === null ? 'no limit' : h < 1 ? `${Math.round(h * 60)} min` : `${h} h`);
const gib = (b: number) => `${Math.round(b / 2 ** 30)} GB`;

/** `/ds01 limits`: the user's effective limits from DS01's resource-limits.yaml. */
/**
 * The limits as a container really gets them: DS01's file asks for 32 CPUs and 32 GB, which a
 * smaller host clamps to what it has (the largest online host's capacity, when known).
 */
export function limitsMessage(user: string, l: UserLimits, host: { cpus: number; memoryBytes: number } | null = null): { text: string; blocks: KnownBlock[] } {
  const cpus = host ? Math.min(l.maxCpus, host.cpus) : l.maxCpus;
  const memory = host ? Math.min(l.memoryBytes, host.memoryBytes) : l.memoryBytes;
  const shm = Math.min(l.shmSizeBytes, memory);
  const clamped = cpus < l.maxCpus || memory < l.memoryBytes ? ` (DS01 allows ${l.maxCpus} CPUs and ${gib(l.memoryBytes)}; this host has less)` : '';
  const text = [
    `*Your limits* (${user}, group *${l.group}*)`,
    `• GPUs: ${l.maxGpuEquivalents === null ? 'no quota' : `${l.maxGpuEquivalents} GPU-equivalents in total`}, ${l.maxGpuSlotsPerContainer === null ? 'any number' : `at most ${l.maxGpuSlotsPerContainer}`} per container`,
    `• Containers at once: ${l.maxContainersPerUser ?? 'no limit'}`,
    `• Per container: ${cpus} CPUs, ${gib(memory)} memory, ${gib(shm)} shared memory${clamped}`,
    `• Idle timeout: ${hours(l.idleTimeoutH)} (GPU below ${l.policies.gpuIdleThreshold}% and CPU below ${l.policies.cpuIdleThreshold}%); halved when the GPUs are in high demand`,
    `• Longest run: ${hours(l.maxRuntimeH)}`,
    `• Keep-alive: up to ${hours(l.policies.keepaliveMaxDurationH)} with \`/ds01 keepalive <project> [hours]\``,
  ].join('\n');
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

import type { Redis } from 'ioredis';
import { HostSnapshot } from '../contract/hosts.js';
import { RedisKey } from '../contract/queues.js';
import { Ds01Error, ErrorCode } from '../shared/errors.js';

/** Reads the hosts' published snapshots: which workers are online and what they hold. */
export class HostRegistry {
  constructor(private readonly redis: Redis) {}

  async online(): Promise<HostSnapshot[]> {
    const ids = await this.redis.smembers(RedisKey.hostsIndex);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(...ids.map((id) => RedisKey.host(id)));
    const out: HostSnapshot[] = [];
    for (const raw of raws) {
      if (!raw) continue;
      const parsed = HostSnapshot.safeParse(JSON.parse(raw));
      if (parsed.success) out.push(parsed.data);
    }
    return out.sort((a, b) => a.hostId.localeCompare(b.hostId));
  }

  /**
   * Where a project's work goes: the host that already has its container, else the one that has
   * its image, else the host with the most free GPU capacity.
   */
  async hostFor(user: string, uid: number, project: string): Promise<HostSnapshot> {
    const hosts = await this.online();
    if (hosts.length === 0) {
      throw new Ds01Error(
        ErrorCode.NoHostOnline,
        'No GPU host is online right now (no DS01 worker has reported in), so nothing was queued. Please tell the DS01 admins; try again once they have it running.',
      );
    }
    const withContainer = hosts.find((h) => h.containers.some((c) => c.user === user && c.project === project));
    if (withContainer) return withContainer;
    const withImage = hosts.find((h) => h.images.some((i) => i.uid === uid && i.project === project));
    if (withImage) return withImage;
    const free = (h: HostSnapshot) => h.gpus.filter((g) => !g.holder).reduce((s, g) => s + g.gpuEq, 0);
    return [...hosts].sort((a, b) => free(b) - free(a))[0]!;
  }
}

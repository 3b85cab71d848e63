import os from 'node:os';
import type { Logger } from '../../src/shared/logger.js';

/**
 * DS01's limits are written for its 32-core, 1-TB host; Docker refuses `--cpus` above the host's
 * core count. The worker clamps each limit to what its host has and says so once in its log.
 */
export interface HostCapacity {
  cpus: number;
  memoryBytes: number;
}

export function hostCapacity(): HostCapacity {
  return { cpus: os.cpus().length, memoryBytes: os.totalmem() };
}

export interface ContainerResources {
  nanoCpus: number;
  memoryBytes: number;
  memorySwapBytes: number;
  shmSizeBytes: number;
}

const warned = new Set<string>();

export function clampResources(wanted: { cpus: number; memoryBytes: number; memorySwapBytes: number; shmSizeBytes: number }, host: HostCapacity, log?: Logger): ContainerResources {
  const cpus = Math.min(wanted.cpus, host.cpus);
  const memoryBytes = Math.min(wanted.memoryBytes, host.memoryBytes);
  const memorySwapBytes = Math.max(memoryBytes, Math.min(wanted.memorySwapBytes, host.memoryBytes));
  // /dev/shm lives in memory: never larger than the container's memory.
  const shmSizeBytes = Math.min(wanted.shmSizeBytes, memoryBytes);
  const key = `${wanted.cpus}/${wanted.memoryBytes}/${host.cpus}/${host.memoryBytes}`;
  if ((cpus < wanted.cpus || memoryBytes < wanted.memoryBytes) && !warned.has(key)) {
    warned.add(key);
    log?.warn(
      { wantedCpus: wanted.cpus, hostCpus: host.cpus, wantedMemory: wanted.memoryBytes, hostMemory: host.memoryBytes, cpus, memoryBytes },
      'resource limits exceed this host; clamped to what the host has',
    );
  }
  return { nanoCpus: Math.round(cpus * 1e9), memoryBytes, memorySwapBytes, shmSizeBytes };
}

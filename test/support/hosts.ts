import type { Redis } from 'ioredis';
import { decodeSnapshot, encodeHostsChanged, encodeSnapshot, type HostSnapshot } from '../../src/contract/hosts.js';
import { RedisKey } from '../../src/contract/queues.js';
import { TEST_JOB_SECRET } from './processes.js';

/** Stores and announces a host snapshot the way a worker does (signed with the test secret). */
export async function writeHostSnapshot(r: Redis, snap: HostSnapshot, ttlS = 300): Promise<void> {
  await r
    .multi()
    .set(RedisKey.host(snap.hostId), encodeSnapshot(TEST_JOB_SECRET, snap, ttlS), 'EX', ttlS)
    .sadd(RedisKey.hostsIndex, snap.hostId)
    .publish(RedisKey.hostsChanged, encodeHostsChanged(TEST_JOB_SECRET, { ttlS, snapshot: snap }))
    .exec();
}

/** A host's stored snapshot when it is there and signed; else null. */
export async function readHostSnapshot(r: Redis, hostId: string): Promise<HostSnapshot | null> {
  return decodeSnapshot(TEST_JOB_SECRET, await r.get(RedisKey.host(hostId)), hostId);
}

import { describe, expect, it } from 'vitest';
import { decodeHostsChanged, decodeSnapshot, encodeHostsChanged, encodeSnapshot, HostSnapshot } from '../../src/contract/hosts.js';
import { sign } from '../../src/contract/signing.js';
import { coalesced, mayExtend, maxStaleMs } from '../../workers/host/heartbeat.js';

const SECRET = 'k'.repeat(64);
const snap = HostSnapshot.parse({ hostId: 'gpu1', updatedAt: new Date().toISOString(), gpuMode: 'fake', gpus: [], containers: [], images: [] });

describe('coalesced snapshot builds', () => {
  it('runs once more after a run for every call during it, never a growing chain', async () => {
    const releases: Array<() => void> = [];
    let runs = 0;
    const build = coalesced(
      () =>
        new Promise<void>((resolve) => {
          runs += 1;
          releases.push(resolve);
        }),
    );
    const first = build();
    const calls = Array.from({ length: 20 }, () => build());
    expect(runs).toBe(1);
    // Twenty asks during the first build share one more build.
    expect(new Set(calls).size).toBe(1);
    releases[0]!();
    await first;
    await Promise.resolve();
    await Promise.resolve();
    expect(runs).toBe(2);
    releases[1]!();
    await calls[0];
    expect(runs).toBe(2);
  });

  it('a failed build does not stop the next one', async () => {
    let n = 0;
    const build = coalesced(async () => {
      n += 1;
      if (n === 1) throw new Error('engine down');
    });
    await expect(build()).rejects.toThrow('engine down');
    await expect(build()).resolves.toBeUndefined();
  });

  it('extends the TTL only while the last good snapshot is at most four TTLs old', () => {
    expect(mayExtend(null, 1000, maxStaleMs(45))).toBe(false);
    expect(mayExtend(0, 180_000, maxStaleMs(45))).toBe(true);
    expect(mayExtend(0, 180_001, maxStaleMs(45))).toBe(false);
  });
});

describe('signed host snapshots', () => {
  it('reads back what was signed with the secret, for the host it names', () => {
    expect(decodeSnapshot(SECRET, encodeSnapshot(SECRET, snap), 'gpu1')).toEqual(snap);
    expect(decodeHostsChanged(SECRET, encodeHostsChanged(SECRET, { ttlS: 3, alive: 'gpu1' }))).toEqual({ ttlS: 3, alive: 'gpu1' });
  });

  it('takes a snapshot signed more than five of its TTLs ago as gone, whatever its key says', () => {
    const now = Date.parse(snap.updatedAt);
    const raw = encodeSnapshot(SECRET, snap, 3);
    expect(decodeSnapshot(SECRET, raw, 'gpu1', now + 15_000)).toEqual(snap);
    expect(decodeSnapshot(SECRET, raw, 'gpu1', now + 15_001)).toBeNull();
    // The TTL is signed too: raising it in the stored value breaks the signature.
    const raised = JSON.parse(raw) as { ttlS: number };
    raised.ttlS = 3600;
    expect(decodeSnapshot(SECRET, JSON.stringify(raised), 'gpu1', now)).toBeNull();
  });

  it('drops unsigned, altered, foreign-keyed, mislabelled and unreadable snapshots', () => {
    expect(decodeSnapshot(SECRET, JSON.stringify(snap))).toBeNull();
    expect(decodeSnapshot(SECRET, JSON.stringify({ snapshot: snap }))).toBeNull();
    const altered = JSON.parse(encodeSnapshot(SECRET, snap)) as { snapshot: { gpuMode: string } };
    altered.snapshot.gpuMode = 'nvidia';
    expect(decodeSnapshot(SECRET, JSON.stringify(altered))).toBeNull();
    expect(decodeSnapshot(SECRET, encodeSnapshot('x'.repeat(64), snap))).toBeNull();
    // Signed, but stored under another host's key.
    expect(decodeSnapshot(SECRET, encodeSnapshot(SECRET, snap), 'gpu2')).toBeNull();
    expect(decodeSnapshot(SECRET, '{not json')).toBeNull();
    expect(decodeSnapshot(SECRET, 'x'.repeat(5 * 1024 * 1024))).toBeNull();
    expect(decodeHostsChanged(SECRET, JSON.stringify({ ttlS: 3, alive: 'gpu1' }))).toBeNull();
    expect(decodeHostsChanged(SECRET, JSON.stringify(sign(SECRET, { ttlS: -1, alive: 'gpu1' })))).toBeNull();
  });

  it('verifies the same bytes once, and other bytes for the same host afresh', () => {
    const raw = encodeSnapshot(SECRET, snap);
    const first = decodeSnapshot(SECRET, raw, 'gpu1');
    // The very same (verified, frozen) snapshot for the same bytes: every reader shares it.
    expect(decodeSnapshot(SECRET, `${raw}`, 'gpu1')).toBe(first);
    expect(Object.isFrozen(first?.containers)).toBe(true);
    // After a good snapshot was remembered: altered bytes, or the right bytes checked with another secret, are still refused.
    const altered = JSON.parse(raw) as { snapshot: { gpuMode: string } };
    altered.snapshot.gpuMode = 'nvidia';
    expect(decodeSnapshot(SECRET, JSON.stringify(altered), 'gpu1')).toBeNull();
    expect(decodeSnapshot('y'.repeat(64), raw, 'gpu1')).toBeNull();
    expect(decodeSnapshot(SECRET, raw, 'gpu1')).toEqual(snap);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_STALE_TTLS } from '../../src/contract/hosts.js';
import { RedisKey } from '../../src/contract/queues.js';
import { readHostSnapshot } from '../support/hosts.js';
import { Harness, messageText } from '../support/harness.js';
import { ALICE, dockerHost, redis, World } from '../support/services.js';
import { SocketGate } from '../support/socket-gate.js';

/**
 * A host is up while its worker is alive, even when building its snapshot takes longer than the
 * snapshot's TTL (a stalled engine, or fifty new images read at once on a busy machine). Before,
 * such a host looked down: every launch was refused with "no GPU host is online" and its waiting
 * launches were moved away. A worker whose builds never finish still goes down, four TTLs later.
 */
describe('host liveness apart from snapshot builds', () => {
  const TTL_S = 2;
  const world = new World([ALICE]);
  const h = new Harness(world);
  const gate = new SocketGate(dockerHost().replace(/^unix:\/\//, ''), `/tmp/ds01-gate-${process.pid}.sock`);
  const r = redis();

  beforeAll(async () => {
    await gate.start();
    await h.start([{ hostId: 'gpu1', gpus: 'fake:2', dockerHost: gate.dockerHost, env: { DS01_HOST_TTL_S: String(TTL_S) } }]);
  });
  afterAll(async () => {
    await h.stop();
    await gate.stop();
    r.disconnect();
  });

  const gpus = async () => messageText((await h.slash(ALICE, 'gpus')).ack);
  const isDown = (text: string) => /down|No GPU host/.test(text);
  /** Polls (every 50 ms) until `done` holds for what `read` returns; returns that. */
  async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
    for (;;) {
      const v = await read();
      if (done(v)) return v;
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  it('stays up while its engine stalls past the TTL, goes down after four TTLs, and comes back', { timeout: 60_000 }, async () => {
    await until(
      () => readHostSnapshot(r, 'gpu1'),
      (s) => s !== null,
    );
    await until(gpus, (t) => !isDown(t));

    gate.hold();
    // The worker can no longer build a snapshot. Wait until the stored one is older than twice its TTL.
    const lastBuilt = async () => {
      const s = await readHostSnapshot(r, 'gpu1');
      return s ? Date.parse(s.updatedAt) : null;
    };
    const built = await until(lastBuilt, (b) => b === null || Date.now() - b >= 2 * TTL_S * 1000);
    // Still stored (the heartbeat keeps it), and the bot still shows the host up.
    expect(built).not.toBeNull();
    const during = await gpus();
    expect(during).toMatch(/gpu1/);
    expect(isDown(during)).toBe(false);

    // Builds never finish: once the last good snapshot is four TTLs old, the heartbeat stops keeping it.
    await until(
      () => readHostSnapshot(r, 'gpu1'),
      (s) => s === null,
    );
    expect(Date.now() - built!).toBeGreaterThanOrEqual(4 * TTL_S * 1000);
    await until(gpus, isDown);

    gate.release();
    expect(await until(gpus, (t) => !isDown(t))).toMatch(/gpu1/);
  });

  it('a dead host stays down although someone with Redis write keeps its key alive and replays its messages', { timeout: 60_000 }, async () => {
    // Record what the worker publishes, as an eavesdropper on Redis would.
    const sub = redis();
    let lastAlive: string | null = null;
    let lastSnapshot: string | null = null;
    sub.on('message', (_channel: string, message: string) => {
      const m = JSON.parse(message) as { alive?: string; snapshot?: { hostId: string } };
      if (m.alive === 'gpu1') lastAlive = message;
      else if (m.snapshot?.hostId === 'gpu1') lastSnapshot = message;
    });
    await sub.subscribe(RedisKey.hostsChanged);
    await until(
      async () => lastAlive !== null && lastSnapshot !== null,
      (v) => v,
    );
    const built = Date.parse((await readHostSnapshot(r, 'gpu1'))!.updatedAt);

    await h.workers.get('gpu1')!.stop('SIGKILL');
    // The "attacker": the key's TTL renewed and both messages published again, five times a second.
    const attack = setInterval(() => {
      void r.expire(RedisKey.host('gpu1'), 3);
      void r.publish(RedisKey.hostsChanged, lastAlive!);
      void r.publish(RedisKey.hostsChanged, lastSnapshot!);
    }, 200);
    try {
      const deadline = Date.now() + 40_000;
      await until(gpus, (t) => {
        if (Date.now() > deadline) throw new Error(`gpu1 still shown up: ${t}`);
        return isDown(t);
      });
      expect(await r.exists(RedisKey.host('gpu1'))).toBe(1); // the key is still there: it is not what decides
      expect(Date.now() - built).toBeGreaterThan(HOST_STALE_TTLS * TTL_S * 1000);
    } finally {
      clearInterval(attack);
      sub.disconnect();
    }
  });
});

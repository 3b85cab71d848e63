import { HOST_EXTEND_TTLS } from '../../src/contract/hosts.js';

/**
 * A host is up while its worker is alive, not only while its snapshot is quick to build. Building a
 * snapshot reads the engine and each project's Dockerfile as its user (a child process per changed
 * image): on a busy machine, with many new images, one build can take longer than the snapshot's
 * TTL. Before this split the host then looked down, every launch was refused ("no GPU host is
 * online") and its waiting launches were moved away, although the worker was fine.
 *
 * So each heartbeat does two things: it asks for a new snapshot (coalesced: one build at a time,
 * at most one more asked for behind it) and, separately, extends the last stored snapshot's TTL,
 * telling the bots the host is alive. A worker whose builds keep failing or hanging stops being
 * extended once its last good snapshot is older than `maxStaleMs`, and then it goes down as before.
 */

/**
 * Wraps a task so that calls while it runs share one more run after it (never a growing chain of
 * runs). Each caller's promise settles after a run that started after its call, so a job that
 * changed something and awaits it sees its change published.
 */
export function coalesced(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  const run = (): Promise<void> => {
    const p: Promise<void> = task().finally(() => {
      if (running === p) running = null;
    });
    running = p;
    return p;
  };
  return () => {
    if (queued) return queued;
    if (!running) return run();
    queued = running
      .catch(() => undefined)
      .then(() => {
        queued = null;
        return run();
      });
    return queued;
  };
}

/** Whether the heartbeat may still extend the host's TTL: its last good snapshot is recent enough. */
export function mayExtend(lastGoodAt: number | null, now: number, maxStaleMs: number): boolean {
  return lastGoodAt !== null && now - lastGoodAt <= maxStaleMs;
}

/** How stale the last good snapshot may be while the worker still says it is alive (src/contract/hosts.ts). */
export function maxStaleMs(ttlS: number): number {
  return HOST_EXTEND_TTLS * ttlS * 1000;
}

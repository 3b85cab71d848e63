/**
 * Acks before replies. Slack gives a request 3 seconds to be acked; the reply that follows (Redis
 * reads, rendering, a POST to response_url) has no such deadline. On one event loop, a burst of
 * commands would otherwise interleave each one's reply work with the next one's ack. The HTTP front
 * counts requests read but not yet answered; work after an ack waits until none is left (or
 * `maxWaitMs`, so replies are never starved by a steady stream of requests).
 */
export class AcksFirst {
  private waiting = 0;
  private readonly idleWaiters = new Set<() => void>();

  /** A request arrived; call the returned function (any number of times) once it is answered. */
  arrived(): () => void {
    this.waiting++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.waiting--;
      if (this.waiting === 0 && this.idleWaiters.size > 0) {
        // On the next turn, so acks written in this one go out first.
        setImmediate(() => {
          if (this.waiting !== 0) return;
          for (const resolve of [...this.idleWaiters]) resolve();
        });
      }
    };
  }

  /** Resolves once no request is waiting for its ack, or after `maxWaitMs`. */
  idle(maxWaitMs = 250): Promise<void> {
    if (this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      this.idleWaiters.add(done);
    });
  }
}

/**
 * Acks first, follow-up work after. Slack gives every request three seconds to be acknowledged;
 * the work a command does after its ack (placing a launch, posting the DM, queueing the job) has no
 * such deadline. In a burst (a class launching at the start of a session) each command's follow-up
 * would otherwise run between the next requests' acks and hold them: with twenty launches at once
 * the last acks waited for the first ones' Redis and Slack calls (BENCHMARKS.md).
 *
 * Every request that arrives is noted; follow-up work waits until no request has arrived for
 * `quietMs`, and never longer than `maxDelayMs` after it asked, so a steady stream of requests can
 * delay it but not starve it.
 */
export class AckFirst {
  private lastRequest = Number.NEGATIVE_INFINITY;
  private oldestWaiting = 0;
  private waiting: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly quietMs = 2,
    private readonly maxDelayMs = 50,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A request arrived (called before any listener runs). */
  noteRequest(): void {
    this.lastRequest = this.now();
  }

  /** Resolves when follow-up work may run: at once when no request came in the last `quietMs`. */
  turn(): Promise<void> {
    if (this.waiting.length === 0 && this.now() - this.lastRequest >= this.quietMs) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.waiting.length === 0) this.oldestWaiting = this.now();
      this.waiting.push(resolve);
      this.arm();
    });
  }

  private arm(): void {
    if (this.timer) return;
    const now = this.now();
    const wait = Math.max(1, Math.min(this.lastRequest + this.quietMs, this.oldestWaiting + this.maxDelayMs) - now);
    this.timer = setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = null;
    const now = this.now();
    if (now - this.lastRequest >= this.quietMs || now - this.oldestWaiting >= this.maxDelayMs) {
      const go = this.waiting;
      this.waiting = [];
      for (const resolve of go) resolve();
    } else {
      this.arm();
    }
  }
}

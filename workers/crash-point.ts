/**
 * Named points where a test can make the worker die on the spot (SIGKILL-like: no cleanup), to
 * prove that every job is safe to run twice. Set DS01_CRASH_AT=<name> in the worker's
 * environment; unset (always, in production) this is a no-op.
 */
const target = process.env.DS01_CRASH_AT;

export function crashPoint(name: string): void {
  if (target && target === name) {
    process.stderr.write(`crash point ${name}: exiting now\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './services.js';

/**
 * Runs `npm run bot` / `npm run worker` as real processes (tsx entry points, the same ones the
 * npm scripts run) and waits for their "ready" log lines.
 */
export class Proc {
  readonly output: string[] = [];
  private exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const onData = (b: Buffer) => {
      for (const line of b.toString().split('\n')) if (line.trim()) this.output.push(line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Resolves when a line matching `re` has been printed, or rejects after `timeoutMs`. */
  async waitForLine(re: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      for (; seen < this.output.length; seen++) if (re.test(this.output[seen]!)) return this.output[seen]!;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${re}:\n${this.output.slice(-30).join('\n')}`);
      }
      if (Date.now() > deadline) throw new Error(`${this.name} did not print ${re} within ${timeoutMs} ms:\n${this.output.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  hasLine(re: RegExp): boolean {
    return this.output.some((l) => re.test(l));
  }

  async exit(): Promise<number | null> {
    return this.exited;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid) {
      try {
        process.kill(-this.child.pid, signal); // the whole group: tsx and the node process it runs
      } catch {
        this.child.kill(signal);
      }
    }
    return this.exited;
  }
}

const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

// Every process a test started dies with the test run, even when a test fails half-way.
const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of started) {
    try {
      if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(-c.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** The secret the bot and workers of this test run sign jobs and events with. */
export const TEST_JOB_SECRET = randomBytes(32).toString('hex');

/** `nodeArgs` go to node before the entry point (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
export function startProcess(name: string, entry: string, env: Record<string, string>, nodeArgs: string[] = []): Proc {
  const child = spawn(TSX, [...nodeArgs, path.join(REPO_ROOT, entry)], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'info', DS01_JOB_SECRET: TEST_JOB_SECRET, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group, so stopping it reaches tsx's node child too.
    detached: true,
  });
  started.add(child);
  child.on('exit', () => started.delete(child));
  return new Proc(name, child);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export const newSigningSecret = (): string => randomBytes(16).toString('hex');

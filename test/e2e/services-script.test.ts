import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/processes.js';
import { REPO_ROOT } from '../support/services.js';

/**
 * scripts/services.sh (used by `npm test`, `npm run dev`, `npm run services:stop`) on a machine that
 * has other things on it: a Redis someone else runs is never used, flushed or stopped.
 */
const run = promisify(execFile);
const SCRIPT = path.join(REPO_ROOT, 'scripts/services.sh');

/** Runs `ensure_redis` (or `stop`) from a fresh run dir; returns exit code, stderr and the port it chose. */
async function services(runDir: string, what: 'ensure_redis' | 'stop', env: Record<string, string> = {}) {
  const cmd = what === 'stop' ? `bash ${SCRIPT} stop` : `source ${SCRIPT} && ensure_redis && echo "PORT=$DS01_TEST_REDIS_PORT"`;
  try {
    const { stdout, stderr } = await run('bash', ['-c', cmd], { env: { PATH: process.env.PATH ?? '', HOME: os.homedir(), DS01_RUN_DIR: runDir, ...env } });
    return { code: 0, stderr, port: /PORT=(\d+)/.exec(stdout)?.[1] };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr, port: undefined };
  }
}

describe('scripts/services.sh never touches a Redis it did not start', () => {
  const foreignDir = mkdtempSync(path.join(os.tmpdir(), 'ds01-foreign-redis-'));
  let foreignPort = 0;
  let foreign: Redis;

  beforeAll(async () => {
    // Someone else's Redis, with their data in it.
    foreignPort = await freePort();
    const r = spawnSync('redis-server', ['--port', String(foreignPort), '--bind', '127.0.0.1', '--save', '', '--dir', foreignDir, '--daemonize', 'yes']);
    expect(r.status).toBe(0);
    foreign = new Redis(`redis://127.0.0.1:${foreignPort}`, { maxRetriesPerRequest: null });
    await foreign.set('their:data', 'precious');
  });
  afterAll(() => {
    foreign.disconnect();
    spawnSync('redis-cli', ['-p', String(foreignPort), 'shutdown', 'nosave']);
  });

  it('refuses a port where a foreign Redis answers, saying so, and leaves its data alone', async () => {
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'ds01-run-'));
    const r = await services(runDir, 'ensure_redis', { DS01_TEST_REDIS_PORT: String(foreignPort) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`a Redis this checkout did not start answers on port ${foreignPort}: refusing to use (and flush) it`);
    expect(await foreign.get('their:data')).toBe('precious');
  });

  it('with no port given it starts its own on a free port, reuses it, and `stop` stops only that one', async () => {
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'ds01-run-'));
    const first = await services(runDir, 'ensure_redis');
    expect(first.code).toBe(0);
    expect(first.port).toBeDefined();
    expect(Number(first.port)).not.toBe(foreignPort);
    const second = await services(runDir, 'ensure_redis');
    expect(second.port).toBe(first.port); // recorded under the run dir and recognised as ours
    const stopped = await services(runDir, 'stop');
    expect(stopped.stderr).toContain(`stopped redis on port ${first.port}`);
    expect(spawnSync('redis-cli', ['-p', first.port!, 'ping'], { encoding: 'utf8' }).stdout).not.toContain('PONG');
    expect(await foreign.get('their:data')).toBe('precious');
  });

  it('`stop` from a run dir that started nothing stops nothing', async () => {
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'ds01-run-'));
    const r = await services(runDir, 'stop');
    expect(r.stderr).toContain('no Redis started from');
    expect(r.stderr).toContain('no engine started from');
    expect(await foreign.get('their:data')).toBe('precious');
  });
});

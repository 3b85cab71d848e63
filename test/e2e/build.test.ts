import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort, Proc, TEST_JOB_SECRET } from '../support/processes.js';
import { dockerHost, redisUrl, REPO_ROOT, World } from '../support/services.js';

/** `npm run build`, then `npm start` / `npm run start:worker`: the compiled output with plain node, as the image runs it. */
const run = promisify(execFile);

function startCompiled(name: string, entry: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, entry)], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'info', DS01_JOB_SECRET: TEST_JOB_SECRET, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // its own process group, as Proc.stop expects
  });
  return new Proc(name, child);
}

describe('the compiled bot and worker', () => {
  beforeAll(async () => {
    await run('npm', ['run', 'build'], { cwd: REPO_ROOT });
  }, 180_000);

  it('the bot runs from dist/ with node and answers a FAQ question (the knowledge base is in dist/ too)', async () => {
    const world = new World();
    const bot = startCompiled('bot', 'dist/src/main.js', { REDIS_URL: redisUrl(), DS01_CONFIG: world.configFile, PORT: String(await freePort()), DS01_LOCAL_CONSOLE: '1' });
    try {
      await bot.waitForLine(/Type a \/ds01 command as alice/);
      bot.child.stdin!.write('help how do I install a package\n');
      await bot.waitForLine(/pip/i);
    } finally {
      await bot.stop();
    }
  });

  it('the worker runs from dist/ with node and reports ready', async () => {
    const world = new World();
    const worker = startCompiled('worker', 'dist/workers/main.js', {
      REDIS_URL: redisUrl(),
      DS01_CONFIG: world.configFile,
      DS01_GPUS: 'fake:1',
      DS01_HOST_ID: 'compiled',
      DOCKER_HOST: dockerHost(),
    });
    try {
      await worker.waitForLine(/worker ready/);
      const code = await worker.stop();
      expect(code).toBe(0); // SIGTERM reaches node: it finishes and exits cleanly
    } finally {
      await worker.stop();
    }
  });
});

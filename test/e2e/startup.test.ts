import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, startProcess } from '../support/processes.js';
import { dockerHost, redisUrl, World } from '../support/services.js';

describe('starting the bot and the worker', () => {
  it('a bad config file stops both with one line naming the key', async () => {
    const world = new World();
    const bad = path.join(world.dir, 'bad.yaml');
    writeFileSync(bad, 'workspaces: /home/workspace\nlimits_file: x.yaml\nusers: []\n');
    for (const [name, entry] of [
      ['bot', 'src/main.ts'],
      ['worker', 'workers/main.ts'],
    ] as const) {
      const p = startProcess(name, entry, { REDIS_URL: redisUrl(), DS01_CONFIG: bad, DS01_GPUS: 'fake:1', PORT: String(await freePort()), DS01_LOCAL_CONSOLE: '1' });
      expect(await p.exit()).toBe(2);
      const line = p.output.find((l) => l.includes('cannot start'))!;
      expect(line).toContain('key \\"workspaces\\"');
      expect(p.output.join('\n')).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it('without the shared job secret neither starts, and the line says how to make one', async () => {
    const world = new World();
    for (const [name, entry] of [
      ['bot', 'src/main.ts'],
      ['worker', 'workers/main.ts'],
    ] as const) {
      const p = startProcess(name, entry, {
        REDIS_URL: redisUrl(),
        DS01_CONFIG: world.configFile,
        DS01_GPUS: 'fake:1',
        PORT: String(await freePort()),
        DS01_LOCAL_CONSOLE: '1',
        DS01_JOB_SECRET: 'short',
      });
      expect(await p.exit()).toBe(2);
      expect(p.output.join('\n')).toMatch(/DS01_JOB_SECRET .* at least 32 characters.*openssl rand -hex 32/);
    }
  });

  it('asked for the local console (npm run dev), the bot says what Slack would need and answers there', async () => {
    const world = new World();
    const bot = startProcess('bot', 'src/main.ts', { REDIS_URL: redisUrl(), DS01_CONFIG: world.configFile, PORT: String(await freePort()), DS01_LOCAL_CONSOLE: '1' });
    try {
      await bot.waitForLine(/Missing to connect to Slack: SLACK_BOT_TOKEN, SLACK_APP_TOKEN \(Socket Mode\) or SLACK_SIGNING_SECRET \(HTTP mode\)/);
      await bot.waitForLine(/Type a \/ds01 command as alice/);
      bot.child.stdin!.write('help\n');
      await bot.waitForLine(/\/ds01 launch <project>/);
    } finally {
      await bot.stop();
    }
  });

  /** Starts `entry` with `env`, expects it to stop with exit code 2 and one line; returns that line. */
  const refusesToStart = async (name: string, entry: string, env: Record<string, string>): Promise<string> => {
    const p = startProcess(name, entry, { REDIS_URL: redisUrl(), PORT: String(await freePort()), ...env });
    expect(await p.exit()).toBe(2);
    const all = p.output.join('\n');
    expect(all).not.toMatch(/\n\s+at /); // no stack trace
    expect(all).not.toMatch(/Type a \/ds01 command|DS01 bot ready|worker ready/);
    return p.output.find((l) => l.includes('cannot start'))!;
  };

  it('a real bot token with an empty signing secret (an unset compose variable) stops the bot, naming what is missing', async () => {
    const world = new World();
    const line = await refusesToStart('bot', 'src/main.ts', { DS01_CONFIG: world.configFile, SLACK_BOT_TOKEN: 'xoxb-1-2-real', SLACK_SIGNING_SECRET: '', SLACK_APP_TOKEN: '' });
    expect(line).toContain('SLACK_BOT_TOKEN is set but SLACK_APP_TOKEN (Socket Mode) and SLACK_SIGNING_SECRET (HTTP mode) are both missing');
    expect(line).not.toContain('xoxb-1-2-real');
  });

  it('no Slack variables and no DS01_LOCAL_CONSOLE: the bot stops and points at npm run dev', async () => {
    const world = new World();
    const line = await refusesToStart('bot', 'src/main.ts', { DS01_CONFIG: world.configFile });
    expect(line).toContain('no Slack credentials');
    expect(line).toContain('npm run dev');
  });

  it('a missing DS01_CONFIG is one sentence for both bot and worker', async () => {
    for (const [name, entry] of [
      ['bot', 'src/main.ts'],
      ['worker', 'workers/main.ts'],
    ] as const) {
      const line = await refusesToStart(name, entry, { SLACK_BOT_TOKEN: 'xoxb-1-2-x', SLACK_APP_TOKEN: 'xapp-1-2-x', DS01_GPUS: 'fake:1' });
      expect(line).toContain('DS01_CONFIG is not set: point it at the DS01 ChatOps config file');
    }
  });

  it('a malformed REDIS_SENTINELS stops both with one line saying the form it takes', async () => {
    const world = new World();
    for (const [name, entry] of [
      ['bot', 'src/main.ts'],
      ['worker', 'workers/main.ts'],
    ] as const) {
      const line = await refusesToStart(name, entry, {
        SLACK_BOT_TOKEN: 'xoxb-1-2-x',
        SLACK_APP_TOKEN: 'xapp-1-2-x',
        DS01_GPUS: 'fake:1',
        DS01_CONFIG: world.configFile,
        REDIS_SENTINELS: 'sentinel-one; rm -rf /',
      });
      expect(line).toContain('REDIS_SENTINELS: a comma-separated list of host:port');
    }
  });

  it('a bad DS01_GPUS stops the worker with a sentence saying what to set', async () => {
    const world = new World();
    const line = await refusesToStart('worker', 'workers/main.ts', { DS01_CONFIG: world.configFile, DS01_GPUS: 'lots' });
    expect(line).toContain('DS01_GPUS is set to \\"lots\\", which I don\'t understand');
    expect(line).toContain('fake:N');
  });

  it('DS01_GPUS=nvidia on a host without nvidia-smi stops the worker instead of reporting ready', async () => {
    const world = new World();
    // Only node on the PATH: no nvidia-smi, whatever this machine has.
    const line = await refusesToStart('worker', 'workers/main.ts', { DS01_CONFIG: world.configFile, DS01_GPUS: 'nvidia', PATH: path.dirname(process.execPath) });
    expect(line).toContain('DS01_GPUS=nvidia but nvidia-smi does not run here');
    expect(line).toContain('ENOENT');
  });

  it('the worker answers /healthz, /readyz and /metrics on DS01_METRICS_PORT, on loopback', async () => {
    const world = new World();
    const port = await freePort();
    const worker = startProcess('worker', 'workers/main.ts', {
      REDIS_URL: redisUrl(),
      DS01_CONFIG: world.configFile,
      DS01_GPUS: 'fake:1',
      DS01_HOST_ID: 'ops-probe',
      DOCKER_HOST: dockerHost(),
      DS01_METRICS_PORT: String(port),
    });
    try {
      await worker.waitForLine(/worker ready/);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/ds01_gpus\{[^}]*state="free"[^}]*\} 1/);
      // Bound to loopback only: another address of this machine does not answer.
      const other = Object.values(os.networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal);
      if (other) await expect(fetch(`http://${other.address}:${port}/healthz`)).rejects.toThrow();
    } finally {
      await worker.stop();
    }
  });
});

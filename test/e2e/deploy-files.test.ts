import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../support/paths.js';

/**
 * What an admin deploys: both compose files as compose itself reads them (`docker compose config`,
 * or Debian's `docker-compose`, which scripts/services.sh installs), the Dockerfile and .env.example.
 */
const run = promisify(execFile);

async function composeCommand(): Promise<string[]> {
  try {
    await run('docker', ['compose', 'version']);
    return ['docker', 'compose'];
  } catch {
    await run('docker-compose', ['version']); // throws when neither is installed: that is a failure
    return ['docker-compose'];
  }
}

type Service = {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | null>;
  volumes?: Array<string | { source?: string; target?: string }>;
  ports?: unknown[];
  user?: string;
  runtime?: string;
  healthcheck?: { test?: string[] | string };
  stop_grace_period?: string;
  networks?: Record<string, unknown> | string[];
  deploy?: { resources?: { reservations?: { devices?: Array<{ driver?: string; count?: unknown; capabilities?: string[] }> } } };
};
type Compose = { services: Record<string, Service>; networks?: Record<string, { internal?: boolean } | null> };

/** `compose config` in a scratch folder holding the file and the given .env; returns the parsed result. */
async function composeConfig(file: string, env: Record<string, string>): Promise<Compose> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ds01-compose-'));
  copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
  writeFileSync(
    path.join(dir, '.env'),
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
  );
  const [cmd, ...args] = await composeCommand();
  const { stdout } = await run(cmd!, [...args, '-f', file, 'config'], { cwd: dir, env: { PATH: process.env.PATH ?? '' } });
  return parseYaml(stdout) as Compose;
}

async function composeError(file: string, env: Record<string, string>): Promise<string> {
  try {
    await composeConfig(file, env);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return `${e.stderr ?? ''}${e.message}`;
  }
  throw new Error(`compose accepted ${file} with ${JSON.stringify(env)}`);
}

const seconds = (d: string | undefined): number => {
  let total = 0;
  for (const m of String(d ?? '').matchAll(/(\d+)(h|m|s)/g)) total += Number(m[1]) * { h: 3600, m: 60, s: 1 }[m[2] as 'h' | 'm' | 's'];
  return total;
};
const command = (s: Service): string => (Array.isArray(s.command) ? s.command.join(' ') : String(s.command ?? ''));
const volumeText = (s: Service): string[] => (s.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
const gpuReservation = (s: Service) => s.deploy?.resources?.reservations?.devices?.find((d) => d.driver === 'nvidia');

const ENV = { SLACK_BOT_TOKEN: 'xoxb-1-2-test', SLACK_APP_TOKEN: 'xapp-1-A-2-test', REDIS_PASSWORD: 'pw0123456789abcdef', DS01_HOST_ID: 'gpu1', DS01_JOB_SECRET: 'f'.repeat(64) };

describe('docker-compose.yml: one GPU host running everything', () => {
  it('Redis keeps its data (AOF, a volume), never evicts jobs, wants a password and has a healthcheck', async () => {
    const c = await composeConfig('docker-compose.yml', ENV);
    const redis = c.services.redis!;
    const cmd = command(redis);
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(cmd).toContain(`--requirepass ${ENV.REDIS_PASSWORD}`);
    expect(volumeText(redis).some((v) => v.endsWith(':/data') || v.includes(':/data:'))).toBe(true);
    expect(redis.healthcheck?.test).toBeDefined();
    expect(redis.ports ?? []).toEqual([]); // not published: only the bot and workers reach it
    // On a network of its own that users' containers are not on.
    const nets = Array.isArray(redis.networks) ? redis.networks : Object.keys(redis.networks ?? {});
    expect(nets).toEqual(['backend']);
    expect(c.networks?.backend?.internal).toBe(true);
  });

  it('refuses to start without a Redis password or a bot token, naming the variable', async () => {
    expect(await composeError('docker-compose.yml', { ...ENV, REDIS_PASSWORD: '' })).toContain('REDIS_PASSWORD');
    expect(await composeError('docker-compose.yml', { ...ENV, DS01_JOB_SECRET: '' })).toContain('DS01_JOB_SECRET');
    const { SLACK_BOT_TOKEN: _omit, ...noToken } = ENV;
    expect(await composeError('docker-compose.yml', noToken)).toContain('SLACK_BOT_TOKEN');
  });

  it('the bot: the app image with plain node (never npm as PID 1), Socket Mode, a healthcheck, no published ports', async () => {
    const c = await composeConfig('docker-compose.yml', ENV);
    const bot = c.services.bot!;
    expect(bot.build).toBeDefined();
    expect(command(bot)).toBe('node dist/src/main.js');
    expect(bot.environment?.SLACK_APP_TOKEN).toBe(ENV.SLACK_APP_TOKEN);
    expect(bot.environment?.REDIS_URL).toBe(`redis://:${ENV.REDIS_PASSWORD}@redis:6379`);
    expect(JSON.stringify(bot.healthcheck?.test)).toContain('/healthz');
    expect(JSON.stringify(bot.healthcheck?.test)).toContain(String(bot.environment?.DS01_METRICS_PORT));
    expect(bot.user).toBeUndefined(); // the image's non-root user
    expect(bot.ports ?? []).toEqual([]);
  });

  it('the worker: Docker socket, workspaces at their host path, the GPUs reserved the compose way, time to finish a job', async () => {
    const c = await composeConfig('docker-compose.yml', ENV);
    const w = c.services.worker!;
    expect(w.image).toBe(c.services.bot!.image);
    expect(command(w)).toBe('node dist/workers/main.js');
    expect(volumeText(w).some((v) => v.startsWith('/var/run/docker.sock:/var/run/docker.sock'))).toBe(true);
    expect(volumeText(w).some((v) => v.startsWith('/home:/home'))).toBe(true);
    expect(w.runtime).toBeUndefined();
    const gpu = gpuReservation(w);
    expect(gpu?.capabilities).toEqual(expect.arrayContaining(['gpu', 'utility']));
    expect(seconds(w.stop_grace_period)).toBeGreaterThanOrEqual(5 * 60);
    expect(JSON.stringify(w.healthcheck?.test)).toContain(`${w.environment?.DS01_METRICS_PORT}/healthz`);
    expect(w.environment?.DS01_HOST_ID).toBe('gpu1');
  });
});

describe('docker-compose.worker.yml: a worker-only GPU host', () => {
  it('runs only a worker, joined to the central Redis, with GPUs, a healthcheck and a grace period', async () => {
    const c = await composeConfig('docker-compose.worker.yml', { DS01_HOST_ID: 'gpu2', DS01_REDIS_URL: 'redis://:pw@central:6379', DS01_JOB_SECRET: ENV.DS01_JOB_SECRET });
    expect(Object.keys(c.services)).toEqual(['worker']);
    const w = c.services.worker!;
    expect(w.environment?.REDIS_URL).toBe('redis://:pw@central:6379');
    expect(w.environment?.DS01_HOST_ID).toBe('gpu2');
    expect(command(w)).toBe('node dist/workers/main.js');
    expect(gpuReservation(w)?.capabilities).toEqual(expect.arrayContaining(['gpu', 'utility']));
    expect(w.healthcheck?.test).toBeDefined();
    expect(seconds(w.stop_grace_period)).toBeGreaterThanOrEqual(5 * 60);
    expect(await composeError('docker-compose.worker.yml', { DS01_HOST_ID: 'gpu2', DS01_JOB_SECRET: ENV.DS01_JOB_SECRET })).toContain('DS01_REDIS_URL');
    expect(await composeError('docker-compose.worker.yml', { DS01_HOST_ID: 'gpu2', DS01_REDIS_URL: 'redis://:pw@central:6379' })).toContain('DS01_JOB_SECRET');
  });
});

describe('the image and the environment template', () => {
  const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

  it('Dockerfile: multi-stage on a Node LTS, compiled output only, tini as PID 1, a non-root user', () => {
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const node = Number(/^ARG NODE_VERSION=(\d+)/m.exec(dockerfile)?.[1]);
    expect(node).toBeGreaterThanOrEqual(22);
    expect(node % 2).toBe(0); // even majors become LTS
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(final).toMatch(/COPY --from=build \/app\/dist/);
    expect(final).not.toMatch(/COPY (src|workers)\b/);
    expect(final).not.toMatch(/tsx/);
    expect(final).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]/m);
    expect(final).toMatch(/^CMD \["node", "dist\/src\/main\.js"\]/m);
    const user = /^USER\s+(\S+)/m.exec(final)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(dockerfile).toMatch(/npm run build/);
  });

  it('.env is ignored by git, and .env.example names every variable the compose files read', () => {
    expect(readFileSync(path.join(REPO_ROOT, '.gitignore'), 'utf8').split('\n')).toContain('.env');
    const example = readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
    const defined = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
    for (const file of ['docker-compose.yml', 'docker-compose.worker.yml']) {
      const used = new Set([...readFileSync(path.join(REPO_ROOT, file), 'utf8').matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!));
      for (const v of used) if (v !== 'DS01_VERSION') expect(defined, `${file} reads ${v}`).toContain(v);
    }
  });
});

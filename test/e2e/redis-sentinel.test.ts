import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, messageText } from '../support/harness.js';
import { freePort } from '../support/processes.js';
import { ALICE, docker, redisUrl, World } from '../support/services.js';

/**
 * Redis Sentinel through configuration alone: a sentinel this test starts watches the test Redis,
 * and the bot and the worker get REDIS_SENTINELS with a REDIS_URL whose host answers nothing, so
 * everything they do (the hosts view, jobs, events) goes to the master the sentinel names.
 */
describe('Redis Sentinel from the environment', () => {
  const world = new World([ALICE]);
  const h = new Harness(world);
  let sentinel: ChildProcess;
  let dir = '';
  let sentinelPort = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ds01-sentinel-'));
    sentinelPort = await freePort();
    const master = new URL(redisUrl());
    writeFileSync(
      path.join(dir, 'sentinel.conf'),
      [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor ds01master ${master.hostname} ${master.port} 1`, ''].join('\n'),
    );
    sentinel = spawn('redis-server', [path.join(dir, 'sentinel.conf'), '--sentinel'], { stdio: 'ignore' });
    // Ready once it names the master.
    const probe = new Redis({ port: sentinelPort, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    probe.on('error', () => undefined); // refused until the sentinel listens
    for (;;) {
      const addr = (await probe.call('SENTINEL', 'get-master-addr-by-name', 'ds01master').catch(() => null)) as string[] | null;
      if (addr?.[1] === master.port) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    probe.disconnect();
    const viaSentinel = { REDIS_URL: `redis://nothing-answers-here.invalid:1/0`, REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: 'ds01master' };
    world.addProject(ALICE, 'sentinel');
    await h.start([{ hostId: 'gpu1', gpus: 'fake:2', env: viaSentinel }], viaSentinel);
  });
  afterAll(async () => {
    await h.stop();
    sentinel?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the bot and the worker find the master through the sentinel: the host shows, a launch runs', async () => {
    let gpus = '';
    while (!/gpu1: 2\/2 free/.test(gpus)) gpus = messageText((await h.slash(ALICE, 'gpus')).ack);
    const { responseUrl } = await h.slash(ALICE, 'launch sentinel');
    expect(messageText((await h.responseTo(responseUrl)).args)).toMatch(/Launch of `sentinel` queued on gpu1/);
    await h.slack.waitFor((c) => /is running/.test(messageText(c.args)) && messageText(c.args).includes('`sentinel`'), 90_000, 'the running message');
    expect((await docker().getContainer('sentinel._.1001').inspect()).State.Running).toBe(true);
  });
});

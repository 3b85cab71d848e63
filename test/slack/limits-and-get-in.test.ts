import { describe, expect, it } from 'vitest';
import type { EventOf } from '../../src/contract/jobs.js';
import { effectiveLimits, loadResourceLimits } from '../../src/limits/resource-limits.js';
import { launchRunningMessage } from '../../src/slack/blocks/launch.js';
import { limitsMessage } from '../../src/slack/blocks/status.js';
import { LIMITS_FILE } from '../support/paths.js';

describe('what a newcomer reads', () => {
  const limits = effectiveLimits(loadResourceLimits(LIMITS_FILE), { user: 'alice', group: 'student' });

  it('/ds01 limits shows the CPUs and memory a container really gets on a smaller host, and says why', () => {
    const text = limitsMessage('alice', limits, { cpus: 2, memoryBytes: 8 * 2 ** 30 }).text;
    expect(text).toMatch(/Per container: 2 CPUs, 8 GB memory/);
    expect(text).toMatch(new RegExp(`DS01 allows ${limits.maxCpus} CPUs`));
    expect(limitsMessage('alice', limits, null).text).toContain(`Per container: ${limits.maxCpus} CPUs`);
  });

  it('the "Get in" hint names a non-default Docker engine, and stays plain for the default one', () => {
    const e = {
      type: 'launch.running',
      requestId: 'r12345678',
      host: 'gpu1',
      owner: { slackUserId: 'U0ALICE', user: 'alice', uid: 1001 },
      project: 'demo',
      reply: null,
      at: new Date().toISOString(),
      container: 'demo._.1001',
      image: 'ds01-1001/demo:latest',
      gpus: [],
      alreadyRunning: false,
      built: false,
    } as unknown as EventOf<'launch.running'>;
    expect(JSON.stringify(launchRunningMessage({ ...e, engine: 'unix:///run/ds01/docker.sock' }).blocks)).toContain(
      'DOCKER_HOST=unix:///run/ds01/docker.sock docker exec -it demo._.1001 bash',
    );
    expect(JSON.stringify(launchRunningMessage({ ...e, engine: null }).blocks)).toContain('`docker exec -it demo._.1001 bash`');
  });
});

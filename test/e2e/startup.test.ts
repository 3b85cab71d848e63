import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, startProcess } from '../support/processes.js';
import { redisUrl, World } from '../support/services.js';

describe('starting the bot and the worker', () => {
  it('a bad config file stops both with one line naming the key', async () => {
    const world = new World();
    const bad = path.join(world.dir, 'bad.yaml');
    writeFileSync(bad, 'workspaces: /home/workspace\nlimits_file: x.yaml\nusers: []\n');
    for (const [name, entry] of [['bot', 'src/main.ts'], ['worker', 'workers/main.ts']] as const) {
      const p = startProcess(name, entry, { REDIS_URL: redisUrl(), DS01_CONFIG: bad, DS01_GPUS: 'fake:1', PORT: String(await freePort()) });
      expect(await p.exit()).toBe(2);
      const line = p.output.find((l) => l.includes('cannot start'))!;
      expect(line).toContain('key \\"workspaces\\"');
      expect(p.output.join('\n')).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it('without the shared job secret neither starts, and the line says how to make one', async () => {
    const world = new World();
    for (const [name, entry] of [['bot', 'src/main.ts'], ['worker', 'workers/main.ts']] as const) {
      const p = startProcess(name, entry, { REDIS_URL: redisUrl(), DS01_CONFIG: world.configFile, DS01_GPUS: 'fake:1', PORT: String(await freePort()), DS01_JOB_SECRET: 'short' });
      expect(await p.exit()).toBe(2);
      expect(p.output.join('\n')).toMatch(/DS01_JOB_SECRET .* at least 32 characters.*openssl rand -hex 32/);
    }
  });

  it('without Slack tokens the bot says what is missing and answers on its local console', async () => {
    const world = new World();
    const bot = startProcess('bot', 'src/main.ts', { REDIS_URL: redisUrl(), DS01_CONFIG: world.configFile, PORT: String(await freePort()) });
    try {
      await bot.waitForLine(/Missing to connect to Slack: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET/);
      await bot.waitForLine(/Type a \/ds01 command as alice/);
      bot.child.stdin!.write('help\n');
      await bot.waitForLine(/\/ds01 launch <project>/);
    } finally {
      await bot.stop();
    }
  });
});

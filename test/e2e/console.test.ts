import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startProcess, type Proc } from '../support/processes.js';
import { ALICE, dockerHost, redisUrl, resetWorld, World } from '../support/services.js';

/**
 * The local console as an admin meets it (`npm run dev`): every flow without Slack, through the same
 * handlers. Plain text is a DM (the FAQ), buttons are numbered choices, a modal is a set of prompts.
 */
describe('the local console (shell mode)', () => {
  const world = new World([ALICE]);
  const logFile = path.join(world.dir, 'bot.log');
  let bot: Proc;
  let worker: Proc;

  /** The number the console printed for the button labelled `label`. */
  const buttonNumber = async (label: string): Promise<string> => {
    const re = new RegExp(`\\[(\\d+)\\] ${label}`);
    return re.exec(await bot.waitForLine(re))![1]!;
  };
  const type = (line: string) => void bot.child.stdin!.write(line + '\n');

  beforeAll(async () => {
    await resetWorld();
    world.addProject(ALICE, 'demo');
    worker = startProcess('worker', 'workers/main.ts', {
      REDIS_URL: redisUrl(),
      DS01_CONFIG: world.configFile,
      DS01_HOST_ID: 'gpu1',
      DOCKER_HOST: dockerHost(),
      DS01_GPUS: 'fake:2',
      DS01_HEARTBEAT_S: '1',
    });
    await worker.waitForLine(/worker ready/);
    bot = startProcess('bot', 'src/main.ts', {
      REDIS_URL: redisUrl(),
      DS01_CONFIG: world.configFile,
      PORT: String(await freePort()),
      DS01_LOCAL_CONSOLE: '1',
      DS01_LOG_FILE: logFile,
    });
    await bot.waitForLine(/Type a \/ds01 command as alice/);
  });
  afterAll(async () => {
    await bot?.stop();
    await worker?.stop();
  });

  it('plain text is a DM: the FAQ answers, and "did this help?" is a numbered choice that works', async () => {
    type('how do I add a python package to my image');
    const yes = await buttonNumber('Yes, thanks');
    type(yes);
    await bot.waitForLine(/you pressed \[Yes, thanks\]/);
    await bot.waitForLine(/Glad it helped/);
  });

  it('the package modal is a set of prompts; submitting it starts the build, which finishes', async () => {
    type('image-update demo');
    await bot.waitForLine(/\? Python packages \(pip\) \(optional; one per line/);
    type('requests==2.31.0');
    type(''); // ends the Python list
    await bot.waitForLine(/\? System packages \(apt\)/);
    type(''); // no system packages
    await bot.waitForLine(/1\) Rebuild without cache/);
    type(''); // no options: submits
    await bot.waitForLine(/Updating the image for `demo`/);
    const outcome = await bot.waitForLine(/The image for `demo` (is ready|did not build)/, 60_000);
    expect(outcome).toContain('is ready');
    expect(readFileSync(path.join(world.projectDir(ALICE, 'demo'), 'Dockerfile'), 'utf8')).toContain('requests==2.31.0');
  });

  it('logs go to the file, not into the conversation; Ctrl-D quits cleanly', async () => {
    expect(bot.output.some((l) => l.startsWith('{"level"'))).toBe(false);
    expect(readFileSync(logFile, 'utf8')).toContain('DS01 bot ready');
    bot.child.stdin!.end();
    expect(await bot.exit()).toBe(0);
  });
});

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/services.js';

const run = promisify(execFile);
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

/**
 * How many of 100 fresh objects V8 made in the old generation, after their allocation site's objects
 * were all alive at its young collections (test/support/pretenure-probe.ts). A small young
 * generation, so those collections are V8's own and happen at its full size, where it decides.
 */
async function madeOld(mode: 'default' | 'bot'): Promise<number> {
  const flags = ['--allow-natives-syntax', '--max-semi-space-size=1', '--min-semi-space-size=1'];
  const { stdout } = await run(TSX, [...flags, path.join(REPO_ROOT, 'test/support/pretenure-probe.ts'), mode], { cwd: REPO_ROOT });
  const out = JSON.parse(stdout.trim().split('\n').pop()!) as { made: number; madeOld: number };
  expect(out.made).toBe(100);
  return out.madeOld;
}

// If a Node upgrade makes the first case fail, V8 changed how it decides: measure again with
// `npm run bench -- --only=ack --gc` before keeping or dropping the setting.
describe("the bot's V8 settings (src/shared/v8-flags.ts)", () => {
  it('with V8 as it comes, objects from a place whose objects outlived young collections are made old (what the setting is for)', async () => {
    expect(await madeOld('default')).toBe(100);
  });

  it("with the bot's settings, the same objects are made young, so they die in the next young collection", async () => {
    expect(await madeOld('bot')).toBe(0);
  });
});

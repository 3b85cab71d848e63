import path from 'node:path';
import { isSafe, toFriendly } from 'redos-detector';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths.js';
import { scanRegexes } from './regex-audit.js';

/**
 * "Linear by construction": every regular expression in the modules that read text a user
 * controls is checked by a ReDoS analyser (redos-detector), which proves that no input can be
 * matched in more than one way, so the engine never backtracks. Patterns built at run time
 * (`new RegExp(...)`) cannot be checked from the source and are not allowed in these modules.
 */
const PARSER_MODULES = [
  'workers/images/dockerfile-parse.ts',
  'workers/images/install-commands.ts',
  'workers/images/requirements-txt.ts',
  'workers/images/dockerfile-edit.ts',
  'workers/images/build-log.ts',
  'workers/images/json-lines.ts',
  'src/images/package-spec.ts',
  'src/slack/commands/parse.ts',
  'src/ds01/naming.ts',
  'src/config/ds01-config.ts',
  'src/shared/text-scan.ts',
  'workers/images/base-images.ts',
  'workers/user-fs/build-context.ts',
  'workers/user-fs/project-path.ts',
  'src/contract/signing.ts',
  'workers/lifecycle/package-notice-plan.ts',
  'src/slack/blocks/packages.ts',
  'src/slack/blocks/home.ts',
];

describe('regexes on user text are linear', () => {
  for (const module of PARSER_MODULES) {
    it(`${module}: every regex is free of backtracking and none is built at run time`, () => {
      const scan = scanRegexes(path.join(REPO_ROOT, module));
      expect(scan.constructed, 'RegExp built at run time').toEqual([]);
      const unsafe = scan.literals.flatMap((r) => {
        const result = isSafe(new RegExp(r.source, r.flags));
        return result.safe ? [] : [`${module}:${r.line} /${r.source}/${r.flags}\n${toFriendly(result).slice(0, 400)}`];
      });
      expect(unsafe).toEqual([]);
    });
  }

  it('the analyser does flag the shapes that stalled the worker', () => {
    // The regexes these modules used before: each is quadratic on a long run of spaces or dots.
    for (const re of [/[ \t]+$/, /[ \t]+#.*$/, /^[ \t]+|[ \t]+$/g, /[._-]+$/, /\s+$/, /^help(?:\s+([\s\S]*))?$/i]) {
      expect(isSafe(re).safe, String(re)).toBe(false);
    }
  });

  it('the source scan finds literals and constructed patterns', () => {
    const scan = scanRegexes(path.join(REPO_ROOT, 'src/images/package-spec.ts'));
    expect(scan.literals.length).toBeGreaterThan(5);
    expect(scan.literals.some((r) => r.source.startsWith('^[A-Za-z0-9]+(?:[._-]+'))).toBe(true);
  });
});

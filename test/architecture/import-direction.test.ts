import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths.js';

/**
 * The flow reads one way: the bot (src/slack, src/local, src/faq) and the workers (workers/) share
 * only the kernel under src/ (contract, ds01 naming, config, limits, shared, audit, images' package
 * specs). The worker never imports the Slack side, and nothing under src/ imports the worker.
 */
function sources(dir: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(REPO_ROOT, path.join(e.parentPath, e.name)));
}

function importsOf(file: string): string[] {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const from = line.indexOf(" from '");
    const bare = line.startsWith("import '");
    if (from < 0 && !bare) continue;
    const start = bare ? 8 : from + 7;
    const end = line.indexOf("'", start);
    if (end > start) out.push(line.slice(start, end));
  }
  return out;
}

const resolved = (file: string, spec: string) => (spec.startsWith('.') ? path.normalize(path.join(path.dirname(file), spec)) : spec);

describe('import direction', () => {
  it('the worker imports only the shared kernel, never the Slack side', () => {
    const bad = sources('workers').flatMap((f) =>
      importsOf(f)
        .map((s) => resolved(f, s))
        .filter((s) => s.startsWith('src/slack') || s.startsWith('src/local') || s.startsWith('src/faq') || s.startsWith('@slack/'))
        .map((s) => `${f} → ${s}`),
    );
    expect(bad).toEqual([]);
  });

  it('nothing under src/ imports the worker', () => {
    const bad = sources('src').flatMap((f) =>
      importsOf(f)
        .map((s) => resolved(f, s))
        .filter((s) => s.startsWith('workers/'))
        .map((s) => `${f} → ${s}`),
    );
    expect(bad).toEqual([]);
  });
});

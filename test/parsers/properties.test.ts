import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDs01Config } from '../../src/config/ds01-config.js';
import { containerName, imageName, ProjectName } from '../../src/ds01/naming.js';
import { parsePackageLines, parsePackageSpec, validatePackageRequest } from '../../src/images/package-spec.js';
import { Ds01Error } from '../../src/shared/errors.js';
import { parseCommand } from '../../src/slack/commands/parse.js';
import { BUILD_LOG_LIMITS, BuildLog } from '../../workers/images/build-log.js';
import { planImageEdit } from '../../workers/images/dockerfile-edit.js';
import { readJsonLines } from '../../workers/images/json-lines.js';

/**
 * Property tests over every parser of text a user controls: whatever the input, no exception
 * escapes except a Ds01Error carrying a sentence for the user, and every refusal is a sentence.
 * The generators mix ordinary text with the shapes that break hand-written parsers: long runs of
 * spaces, tabs, dots, backslashes and carriage returns, nested and unclosed quotes, backslash
 * continuations, NULs and other control characters, and lines far longer than any real one.
 */

// --- hostile text ----------------------------------------------------------------------------

const PIECES = [
  ' ',
  '\t',
  '\\',
  '\\\n',
  '"',
  "'",
  '`',
  '\0',
  '\r',
  '\n',
  '\r\n',
  '#',
  '.',
  '-',
  '_',
  '=',
  ',',
  '[',
  ']',
  '<<',
  '$(',
  ')',
  ';',
  '&&',
  '|',
  '\u001b[',
  '\u2028',
  '\uFEFF',
  'é',
  '🐳',
  '\uD800',
];
const WORDS = [
  'RUN',
  'FROM',
  'pip',
  'install',
  'apt-get',
  '-r',
  'requirements.txt',
  'numpy',
  'rich>=13',
  'COPY',
  '.',
  'EOF',
  'Step 1/2 :',
  'launch',
  'retire',
  'help',
  '--gpus',
  'demo',
  'users:',
  'workspaces:',
];

const run = fc.tuple(fc.constantFrom(...PIECES, 'a', '0'), fc.integer({ min: 1, max: 5_000 })).map(([piece, n]) => piece.repeat(n));
const hugeRun = fc.tuple(fc.constantFrom(' ', '\t', '.', '\\', '\r', 'x', "'", '"'), fc.integer({ min: 20_000, max: 120_000 })).map(([piece, n]) => piece.repeat(n));
const nestedQuotes = fc.integer({ min: 1, max: 300 }).map((n) => `${'"\''.repeat(n)}x${'\'"'.repeat(n - 1)}`);
const fragment = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 4, arbitrary: fc.constantFrom(...PIECES, ...WORDS) },
  { weight: 2, arbitrary: run },
  { weight: 1, arbitrary: nestedQuotes },
);
/** Text made of hostile fragments; now and then one run far longer than any real line. */
const hostileText = fc.oneof(
  { weight: 8, arbitrary: fc.array(fragment, { maxLength: 30 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.tuple(fc.array(fragment, { maxLength: 5 }), hugeRun).map(([parts, huge]) => parts.join('') + huge + parts.join('')) },
);
/** Lines of hostile text joined by newlines, the shape of a Dockerfile or requirements.txt. */
const hostileFile = fc
  .array(
    fc.oneof(
      hostileText,
      fc.constantFrom(
        'FROM python:3.11',
        'RUN pip install numpy \\',
        '    rich',
        'COPY requirements.txt .',
        'RUN pip install -r requirements.txt',
        '# Custom additional packages',
        'USER app',
        'RUN <<EOF',
        'EOF',
        'RUN apt-get install -y git',
      ),
    ),
    { maxLength: 25 },
  )
  .map((lines) => lines.join('\n'));

// --- what counts as a sentence ----------------------------------------------------------------

/** A refusal a person can read: starts like a sentence, ends like one, no programmer's debris. */
function expectSentence(text: unknown, input: string): void {
  const context = JSON.stringify(input.slice(0, 200));
  expect(typeof text, context).toBe('string');
  const t = (text as string).trim();
  expect(t.length, context).toBeGreaterThan(8);
  expect(t.length, context).toBeLessThan(3_000);
  // A continuation such as "…and 2 more lines to fix." counts as a sentence too.
  expect(t[0], `${context}: ${t.slice(0, 80)}`).toMatch(/[A-Z`…]/);
  expect(t.at(-1), `${context}: ${t.slice(-80)}`).toMatch(/[.!?:`)]/);
  // Quoted user text may contain anything; outside the quotes there is no debris.
  const ours = t
    .split('`')
    .filter((_, i) => i % 2 === 0)
    .join(' ');
  expect(ours, context).not.toMatch(/undefined|\[object |NaN|Error:|\n\s+at /);
}

/** Runs `fn`; a thrown Ds01Error must carry a sentence, anything else thrown fails the property. */
function refusalOf(fn: () => unknown, input: string): Ds01Error | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (!(err instanceof Ds01Error)) throw new Error(`${String(err)} escaped for ${JSON.stringify(input.slice(0, 200))}`);
    expect(err.userMessage.length).toBeGreaterThan(0);
    return err;
  }
}

const RUNS = { numRuns: 300 };

describe('properties: /ds01 slash text', () => {
  const slashText = fc.oneof(
    hostileText,
    fc.tuple(fc.constantFrom('launch', 'retire', 'image-update', 'keepalive', 'help', 'status', 'LAUNCH'), hostileText).map(([sub, rest]) => `${sub} ${rest}`),
    fc.tuple(fc.constantFrom('launch demo --gpus', 'retire demo --user', 'keepalive demo'), hostileText).map(([sub, rest]) => `${sub} ${rest}`),
  );

  it('answers any text with a command or a sentence, never an exception', () => {
    fc.assert(
      fc.property(slashText, (text) => {
        const r = parseCommand(text);
        if (!r.ok) expectSentence(r.message, text);
        else if ('project' in r.command) expect(ProjectName.safeParse(r.command.project).success).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('properties: project names', () => {
  const lowerRuns = fc.stringMatching(/^[a-z0-9]{1,6}$/);
  const grammarName = fc
    .tuple(lowerRuns, fc.array(fc.tuple(fc.constantFrom('.', '_', '__', '-', '--', '---'), lowerRuns), { maxLength: 5 }))
    .map(([head, rest]) => head + rest.map(([sep, run]) => sep + run).join(''))
    .filter((n) => n.length <= 64);

  it("accepts every name in Docker's grammar, and the image and container names built from it", () => {
    fc.assert(
      fc.property(grammarName, (name) => {
        expect(ProjectName.safeParse(name).success, name).toBe(true);
        expect(parseCommand(`launch ${name}`)).toMatchObject({ ok: true, command: { project: name } });
        // What the engine requires of `repo:tag` and of a container name.
        expect(imageName(1001, name)).toMatch(/^ds01-1001\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*:latest$/);
        expect(containerName(name, 1001)).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
        expect(name.includes('._.')).toBe(false);
      }),
      RUNS,
    );
  });

  it('refuses anything else with a reason, never an exception', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hostileText,
          grammarName.map((n) => `${n}_`),
          grammarName.map((n) => `-${n}`),
          grammarName.map((n) => `${n}..x`),
        ),
        (name) => {
          const r = ProjectName.safeParse(name);
          if (!r.success) {
            expect(r.error.issues[0]!.message.length).toBeGreaterThan(10);
            const cmd = parseCommand(`launch ${JSON.stringify(name).slice(0, 1_900)}`);
            if (!cmd.ok) expectSentence(cmd.message, name);
          } else {
            expect(name).toMatch(/^[a-z0-9]/);
          }
        },
      ),
      RUNS,
    );
  });
});

describe('properties: package lines from the modal', () => {
  const packageLine = fc.oneof(
    hostileText,
    fc.constantFrom('numpy', 'rich>=13', 'transformers[torch]>=4.40', 'ffmpeg', 'libsndfile1=1.0', 'Foo_Bar . baz'),
    fc.tuple(fc.constantFrom('numpy', 'rich'), run, fc.constantFrom('>=1', '# note', '[x]', '')).map((p) => p.join('')),
  );
  const field = fc.array(packageLine, { maxLength: 12 }).map((lines) => lines.join('\n'));

  it('validates any field without an exception; every problem is a sentence', () => {
    fc.assert(
      fc.property(field, field, (python, system) => {
        const r = validatePackageRequest({ python, system });
        if (r.ok) return;
        for (const message of Object.values(r.errors)) {
          for (const line of message!.split('\n')) expectSentence(line, `${python}|${system}`);
        }
      }),
      RUNS,
    );
  });

  it('normalises each accepted line to a spec that validates to itself and that the editor accepts', () => {
    fc.assert(
      fc.property(fc.constantFrom('python', 'system') as fc.Arbitrary<'python' | 'system'>, field, (kind, text) => {
        const r = parsePackageLines(kind, text);
        if (!r.ok) return;
        for (const spec of r.packages) expect(parsePackageSpec(kind, spec)).toEqual({ ok: true, spec });
        const plan = planImageEdit({
          dockerfile: 'FROM python:3.11\n',
          requirementsTxt: null,
          python: kind === 'python' ? r.packages : [],
          system: kind === 'system' ? r.packages : [],
        });
        expect(plan.added[kind]).toEqual(r.packages);
      }),
      RUNS,
    );
  });
});

describe('properties: Dockerfile and requirements.txt edits', () => {
  const specs = fc.subarray(['einops', 'rich==13.7.1', 'numpy', 'transformers[torch]>=4.40']);
  const sysSpecs = fc.subarray(['ffmpeg', 'git', 'libsndfile1=1.0.31-1']);

  it('plans an edit of any Dockerfile and requirements.txt, or refuses with a sentence', () => {
    fc.assert(
      fc.property(hostileFile, fc.option(hostileFile), specs, sysSpecs, (dockerfile, requirementsTxt, python, system) => {
        const input = `${dockerfile}\n---\n${requirementsTxt ?? ''}`;
        let plan: ReturnType<typeof planImageEdit> | undefined;
        const refusal = refusalOf(() => {
          plan = planImageEdit({ dockerfile, requirementsTxt, python, system });
        }, input);
        if (refusal) {
          expectSentence(refusal.userMessage, input);
          return;
        }
        // Nothing asked for is lost: each package was added, replaced, or found already there.
        for (const spec of python) {
          const accounted = [...plan!.added.python, ...plan!.alreadyPresent.python, ...plan!.replaced.python.map((r) => r.to)];
          expect(accounted, spec).toContain(spec);
        }
        // The same edit applied to its own result changes nothing.
        const again = planImageEdit({ dockerfile: plan!.dockerfile, requirementsTxt: plan!.requirementsTxt, python, system });
        expect(again.changed, input).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('properties: build logs', () => {
  const buildObject = fc.oneof(
    hostileText.map((stream) => ({ stream })),
    fc.tuple(hostileText, fc.option(hostileText)).map(([status, id]) => (id === null ? { status } : { status, id })),
    hostileText.map((error) => ({ error, errorDetail: { message: error } })),
    fc.constant({ aux: { ID: 'sha256:0123' } }),
    fc.anything(),
  );

  it('follows any stream of objects within its bounds, without an exception', () => {
    const { keepLines, maxLine, maxError } = BUILD_LOG_LIMITS;
    fc.assert(
      fc.property(fc.array(buildObject, { maxLength: 40 }), (objects) => {
        const log = new BuildLog();
        for (const o of objects) log.push(o);
        log.finish();
        const snap = log.snapshot();
        expect(snap.lines.length).toBeLessThanOrEqual(keepLines);
        for (const line of snap.lines) expect(line.length).toBeLessThanOrEqual(maxLine);
        expect((snap.error ?? '').length).toBeLessThanOrEqual(maxError);
        expect((snap.step?.instruction ?? '').length).toBeLessThanOrEqual(maxLine);
        if (snap.hint !== null) expectSentence(snap.hint, 'hint');
      }),
      { numRuns: 200 },
    );
  });

  it('reads any byte stream, however it is chunked, without buffering more than the cap', async () => {
    const cap = 4_096;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 3_000 }),
            hostileText.map((t) => Buffer.from(t, 'utf8')),
          ),
          { maxLength: 20 },
        ),
        async (chunks) => {
          let delivered = 0;
          const stats = await readJsonLines(Readable.from(chunks.map((c) => Buffer.from(c))), () => void (delivered += 1), { maxLineChars: cap });
          expect(stats.maxBuffered).toBeLessThanOrEqual(cap);
          expect(stats.objects).toBe(delivered);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('properties: the bot config file', () => {
  const GOOD = 'workspaces: /home/{user}/workspace\nlimits_file: ./limits.yaml\nusers:\n  - { slack_id: U0ALICE, user: alice, uid: 1001 }\n';
  const mutated = fc
    .tuple(fc.integer({ min: 0, max: GOOD.length }), fc.integer({ min: 0, max: 20 }), hostileText)
    .map(([at, cut, insert]) => GOOD.slice(0, at) + insert + GOOD.slice(at + cut));

  it('reads any text as a config or refuses it with a message naming the file', () => {
    fc.assert(
      fc.property(fc.oneof(hostileText, mutated), (text) => {
        const refusal = refusalOf(() => parseDs01Config(text, '/etc/ds01-chatops', 'ds01.yaml'), text);
        if (refusal) {
          expect(refusal.userMessage.startsWith('ds01.yaml')).toBe(true);
          expect(refusal.userMessage.length).toBeLessThan(1_000);
        }
      }),
      RUNS,
    );
  });
});

import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { parseDs01Config } from '../src/config/ds01-config.js';
import { ProjectName } from '../src/ds01/naming.js';
import { parsePackageSpec, validatePackageRequest } from '../src/images/package-spec.js';
import { parseCommand } from '../src/slack/commands/parse.js';
import { BuildLog } from '../workers/images/build-log.js';
import { planImageEdit } from '../workers/images/dockerfile-edit.js';
import { readJsonLines } from '../workers/images/json-lines.js';

/**
 * Times each parser of user text on 100k-character hostile inputs (long runs of spaces, dots,
 * carriage returns: the shapes that made backtracking regexes quadratic) next to a benign input of
 * the same size. Linear parsers take about as long on both; a quadratic one takes seconds.
 */
export interface HostileCase {
  parser: string;
  input: string;
  chars: number;
  ms: number;
  /** What happened: accepted, refused (with the sentence's first words) or truncated. */
  outcome: string;
}

const N = 100_000;
const spaces = (n: number) => ' '.repeat(n);

function fill(unit: string, n: number): string {
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

const BENIGN_DOCKERFILE_LINE = 'RUN apt-get update && apt-get install -y --no-install-recommends git curl && rm -rf /var/lib/apt/lists/*\n';
const benignDockerfile = `FROM python:3.11-slim\n${fill(BENIGN_DOCKERFILE_LINE, N - 40)}\nRUN pip install numpy\n`;

function outcomeOf(fn: () => unknown): string {
  try {
    const r = fn();
    if (r && typeof r === 'object' && 'ok' in r && (r as { ok: boolean }).ok === false) return 'refused';
    if (r && typeof r === 'object' && 'success' in r && (r as { success: boolean }).success === false) return 'refused';
    return 'accepted';
  } catch (err) {
    const m = (err as { userMessage?: string }).userMessage ?? (err as Error).message;
    return `refused: ${m.slice(0, 60)}`;
  }
}

function time(parser: string, input: string, text: string, fn: (t: string) => unknown): HostileCase {
  outcomeOf(() => fn(text.slice(0, 1000))); // warm-up on a short prefix
  const t0 = performance.now();
  const outcome = outcomeOf(() => fn(text));
  return { parser, input, chars: text.length, ms: Math.round((performance.now() - t0) * 10) / 10, outcome };
}

const edit = (dockerfile: string, requirementsTxt: string | null = null) => planImageEdit({ dockerfile, requirementsTxt, python: ['rich'], system: ['ffmpeg'] });
const REQ_DOCKERFILE = 'FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n';

function buildLog(text: string): BuildLog {
  const log = new BuildLog();
  for (let i = 0; i < text.length; i += 8192) log.push({ stream: text.slice(i, i + 8192) });
  log.push({ error: text });
  log.finish();
  return log;
}

export async function benchHostile(): Promise<HostileCase[]> {
  const cases: HostileCase[] = [];
  const df = (body: string) => `FROM python:3.11-slim\n${body}\n`;
  cases.push(time('planImageEdit (Dockerfile)', 'benign', benignDockerfile, (t) => edit(t)));
  cases.push(time('planImageEdit (Dockerfile)', 'quoted pip word of spaces', df(`RUN pip install 'rich${spaces(N)}>=13'`), (t) => edit(t)));
  cases.push(time('planImageEdit (Dockerfile)', 'line of spaces', df(`${spaces(N)}x`), (t) => edit(t)));
  cases.push(time('planImageEdit (Dockerfile)', 'pip word of dots', df(`RUN pip install a${'.'.repeat(N)}x`), (t) => edit(t)));
  cases.push(time('planImageEdit (Dockerfile)', 'backslash then spaces', df(`RUN echo \\${spaces(N)}x`), (t) => edit(t)));
  cases.push(time('planImageEdit (Dockerfile)', 'heredoc markers', df(`RUN ${fill('<< ', N)}`), (t) => edit(t)));
  cases.push(time('planImageEdit (requirements.txt)', 'benign', fill('numpy==1.26.4  # arrays\n', N), (t) => edit(REQ_DOCKERFILE, t)));
  cases.push(time('planImageEdit (requirements.txt)', 'line of spaces', `numpy${spaces(N)}x\n`, (t) => edit(REQ_DOCKERFILE, t)));
  cases.push(time('BuildLog', 'benign', fill('Collecting numpy==1.26.4 from https://pypi.org/simple\n', N), buildLog));
  cases.push(time('BuildLog', 'line of spaces', `${spaces(N)}x\n`, buildLog));
  cases.push(time('BuildLog', 'carriage returns', `${'\r'.repeat(N)}x\n`, buildLog));
  cases.push(time('BuildLog', 'no newline at all', fill('x', N), buildLog));
  cases.push(time('parsePackageSpec', 'spaces', `numpy${spaces(N)}x`, (t) => parsePackageSpec('python', t)));
  cases.push(time('validatePackageRequest', 'spaces', `numpy${spaces(N)}# x`, (t) => validatePackageRequest({ python: t })));
  cases.push(time('parseCommand', 'benign', `launch demo ${fill('--gpus 1 ', N)}`, parseCommand));
  cases.push(time('parseCommand', 'help + spaces', `help${spaces(N)}x`, parseCommand));
  cases.push(time('ProjectName', 'dashes', `a${'-'.repeat(N)}`, (t) => ProjectName.safeParse(t)));
  const config = (value: string) =>
    `workspaces: /home/{user}/workspace\nlimits_file: ./limits.yaml\nadmin_contact: "${value}"\nusers:\n  - { slack_id: U0ALICE, user: alice, uid: 1001 }\n`;
  cases.push(time('parseDs01Config', 'benign', config(fill('#ds01-help ', N)), (t) => parseDs01Config(t, '/tmp')));
  cases.push(time('parseDs01Config', 'value of spaces', config(`a${spaces(N)}x`), (t) => parseDs01Config(t, '/tmp')));
  cases.push(time('parseDs01Config', 'unclosed quotes', `a: ${fill('"\'', N)}`, (t) => parseDs01Config(t, '/tmp')));
  cases.push(await timeStream('readJsonLines', 'benign', fill('{"stream":"Collecting numpy\\n"}\n', N)));
  cases.push(await timeStream('readJsonLines', 'no newline (50 MB)', fill('x', 50 * 1024 * 1024)));
  return cases;
}

async function timeStream(parser: string, input: string, text: string): Promise<HostileCase> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < text.length; i += 64 * 1024) chunks.push(Buffer.from(text.slice(i, i + 64 * 1024)));
  const t0 = performance.now();
  const stats = await readJsonLines(Readable.from(chunks), () => undefined);
  const ms = Math.round((performance.now() - t0) * 10) / 10;
  return { parser, input, chars: text.length, ms, outcome: `${stats.objects} objects, ${stats.dropped} dropped, at most ${stats.maxBuffered} chars buffered` };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const c of await benchHostile())
    console.log(`${c.parser.padEnd(34)} ${c.input.padEnd(26)} ${String(c.chars).padStart(7)} chars ${String(c.ms).padStart(9)} ms  ${c.outcome}`);
}

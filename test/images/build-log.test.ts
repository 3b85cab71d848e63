import { describe, expect, it } from 'vitest';
import { BUILD_LOG_LIMITS, BuildLog, hintFor } from '../../workers/images/build-log.js';

// Objects as the Engine API streams them for a classic (non-BuildKit) build: one JSON object per
// chunk, with "Step" lines and their newline often arriving separately.
const PULL_AND_START = [
  { stream: 'Step 1/4 : FROM python:3.11-slim' },
  { stream: '\n' },
  { status: 'Pulling from library/python', id: '3.11-slim' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'a803e7c4b030' },
  { status: 'Downloading', progressDetail: { current: 524288, total: 29126484 }, progress: '[>      ]  524.3kB/29.13MB', id: 'a803e7c4b030' },
  { status: 'Pull complete', progressDetail: {}, id: 'a803e7c4b030' },
  { status: 'Digest: sha256:3f1ed6b2a4b1cd3fb0f2d7f83d1ef1f2c1b4a4b0bd1c1d7b8a9c0d1e2f3a4b5c' },
  { status: 'Status: Downloaded newer image for python:3.11-slim' },
  { stream: ' ---> 2e3a4b5c6d7e\n' },
  { stream: 'Step 2/4 : ARG DS01_USER_ID' },
  { stream: '\n' },
  { stream: ' ---> Running in 0a1b2c3d4e5f\n' },
  { stream: 'Removing intermediate container 0a1b2c3d4e5f\n' },
  { stream: ' ---> 3f4a5b6c7d8e\n' },
];

const PIP_FAILURE = [
  ...PULL_AND_START,
  { stream: 'Step 3/4 : RUN pip install --no-cache-dir nosuchpkg-xyz' },
  { stream: '\n' },
  { stream: ' ---> Running in 9a8b7c6d5e4f\n' },
  { stream: '\u001b[91mERROR: Could not find a version that satisfies the requirement nosuchpkg-xyz (from versions: none)\n\u001b[0m' },
  { stream: '\u001b[91mERROR: No matching distribution found for nosuchpkg-xyz\n\u001b[0m' },
  {
    errorDetail: { code: 1, message: "The command '/bin/sh -c pip install --no-cache-dir nosuchpkg-xyz' returned a non-zero code: 1" },
    error: "The command '/bin/sh -c pip install --no-cache-dir nosuchpkg-xyz' returned a non-zero code: 1",
  },
];

const SUCCESS = [
  ...PULL_AND_START,
  { stream: 'Step 3/4 : RUN pip install --no-cache-dir einops' },
  { stream: '\n' },
  { stream: ' ---> Running in 1a2b3c4d5e6f\n' },
  { stream: 'Collecting einops\n  Downloading einops-0.8.0-py3-none-any.whl (43 kB)\n' },
  { stream: '     \u001b[90m━━━━━━━━━━\u001b[0m \u001b[32m0.0/43.2 kB\u001b[0m\r     \u001b[90m━━━━━━━━━━\u001b[0m \u001b[32m43.2/43.2 kB\u001b[0m 2.1 MB/s eta 0:00:00\n' },
  { stream: 'Installing collected packages: einops\nSuccessfully installed einops-0.8.0\n' },
  { stream: 'Removing intermediate container 1a2b3c4d5e6f\n' },
  { stream: ' ---> 5c6d7e8f9a0b\n' },
  { stream: 'Step 4/4 : CMD ["/bin/bash"]\n' },
  { stream: ' ---> Running in 7e8f9a0b1c2d\n' },
  { stream: 'Removing intermediate container 7e8f9a0b1c2d\n' },
  { stream: ' ---> 6d7e8f9a0b1c\n' },
  { aux: { ID: 'sha256:6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e' } },
  { stream: 'Successfully built 6d7e8f9a0b1c\n' },
  { stream: 'Successfully tagged ds01-1001/demo:latest\n' },
];

function feed(objs: unknown[]): BuildLog {
  const log = new BuildLog();
  for (const o of objs) log.push(o);
  log.finish();
  return log;
}

describe('BuildLog', () => {
  it('follows steps and keeps readable output without Docker bookkeeping or progress noise', () => {
    const log = feed(PULL_AND_START);
    expect(log.currentStep).toEqual({ number: 2, total: 4, instruction: 'ARG DS01_USER_ID' });
    expect(log.totalSteps).toBe(4);
    expect(log.lines).toEqual([
      'Step 1/4 : FROM python:3.11-slim',
      '3.11-slim: Pulling from library/python',
      'Digest: sha256:3f1ed6b2a4b1cd3fb0f2d7f83d1ef1f2c1b4a4b0bd1c1d7b8a9c0d1e2f3a4b5c',
      'Status: Downloaded newer image for python:3.11-slim',
      'Step 2/4 : ARG DS01_USER_ID',
    ]);
    expect(log.failed).toBe(false);
    expect(log.succeeded).toBe(false);
  });

  it('records a successful build with its image id, and strips colours and redrawn progress', () => {
    const log = feed(SUCCESS);
    expect(log.succeeded).toBe(true);
    expect(log.failed).toBe(false);
    expect(log.imageId).toBe('sha256:6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e');
    expect(log.currentStep?.number).toBe(4);
    expect(log.lines).toContain('     ━━━━━━━━━━ 43.2/43.2 kB 2.1 MB/s eta 0:00:00');
    expect(log.lines.join('\n')).not.toMatch(/\u001b|\r/);
    expect(log.lines.at(-1)).toBe('Successfully tagged ds01-1001/demo:latest');
    expect(log.hint()).toBeNull();
  });

  it('records the failing step, the error and a hint when pip finds no distribution', () => {
    const log = feed(PIP_FAILURE);
    expect(log.failed).toBe(true);
    expect(log.succeeded).toBe(false);
    expect(log.failedStep).toEqual({ number: 3, total: 4, instruction: 'RUN pip install --no-cache-dir nosuchpkg-xyz' });
    expect(log.error).toBe("The command '/bin/sh -c pip install --no-cache-dir nosuchpkg-xyz' returned a non-zero code: 1");
    expect(log.lines.at(-1)).toBe('ERROR: No matching distribution found for nosuchpkg-xyz');
    expect(log.hint()).toMatch(/no matching distribution: check the name and version on PyPI/);
    expect(log.snapshot()).toMatchObject({ failed: true, failedStep: { number: 3 }, hint: expect.stringContaining('PyPI') });
  });

  it('keeps only the last 20 lines', () => {
    const log = feed(Array.from({ length: 50 }, (_, i) => ({ stream: `line ${i}\n` })));
    expect(log.lines).toHaveLength(20);
    expect(log.lines[0]).toBe('line 30');
    expect(log.lines[19]).toBe('line 49');
  });

  it('joins output split across chunks and flushes a last line without newline', () => {
    const log = new BuildLog();
    log.push({ stream: 'Collecting ein' });
    log.push({ stream: 'ops\nDownloading' });
    expect(log.lines).toEqual(['Collecting einops']);
    log.finish();
    expect(log.lines).toEqual(['Collecting einops', 'Downloading']);
  });

  it('handles an error before any step (e.g. a bad base image)', () => {
    const log = feed([
      { stream: 'Step 1/3 : FROM pytorch/nosuch:latest' },
      { stream: '\n' },
      {
        errorDetail: {
          message: "pull access denied for pytorch/nosuch, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
        },
        error: "pull access denied for pytorch/nosuch, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
      },
    ]);
    expect(log.failed).toBe(true);
    expect(log.failedStep?.number).toBe(1);
    expect(log.hint()).toMatch(/base image/);

    const parse = feed([{ errorDetail: { message: 'dockerfile parse error line 7: unknown instruction: PIP' }, error: 'dockerfile parse error line 7: unknown instruction: PIP' }]);
    expect(parse.failedStep).toBeNull();
    expect(parse.hint()).toMatch(/syntax error/);
  });

  it('ignores objects it does not know, including BuildKit trace records', () => {
    const log = new BuildLog();
    for (const o of [null, 42, 'text', [], { id: 'moby.buildkit.trace', aux: 'CmsKR3NoYTI1Njo...' }, { aux: { Digest: 'x' } }, { stream: 7 }]) log.push(o);
    log.finish();
    expect(log.lines).toEqual([]);
    expect(log.failed).toBe(false);
    expect(log.imageId).toBeNull();
  });

  it('uses errorDetail.message, falling back to error', () => {
    expect(feed([{ error: 'boom' }]).error).toBe('boom');
    expect(feed([{ errorDetail: { message: 'detail' }, error: 'other' }]).error).toBe('detail');
  });
});

describe('hintFor', () => {
  it.each([
    ['ERROR: No matching distribution found for torchh', /no matching distribution: check the name and version on PyPI/],
    ['ERROR: Could not find a version that satisfies the requirement rich==99 (from versions: 13.7.1)', /no matching distribution/],
    ['E: Unable to locate package libfoo', /Debian\/Ubuntu package name/],
    ["E: Package 'python-dev' has no installation candidate", /Debian\/Ubuntu package name/],
    ["The command '/bin/sh -c apt-get install -y foo' returned a non-zero code: 100", /One of the build steps failed/],
    ['OSError: [Errno 28] No space left on device', /disk space/],
    ['write /var/lib/docker/tmp/x: no space left on device', /disk space/],
    [
      "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/einops/",
      /could not reach the internet/,
    ],
    ["Err:1 http://archive.ubuntu.com/ubuntu jammy InRelease\n  Temporary failure resolving 'archive.ubuntu.com'", /could not reach the internet/],
    ['fatal: unable to access https://github.com/x/y.git/: Could not resolve host: github.com', /could not reach the internet/],
    ["pull access denied for foo/bar, repository does not exist or may require 'docker login'", /base image/],
    ['manifest for python:9.9 not found: manifest unknown: manifest unknown', /base image/],
    ['ERROR: Cannot install a and b because these package versions have conflicting dependencies.', /conflict/],
    ["ERROR: Invalid requirement: 'rich=13'", /did not understand/],
  ])('%s', (text, expected) => {
    expect(hintFor(text)).toMatch(expected);
  });

  it('blames the network, not the package name, when pip was offline', () => {
    const offline =
      "WARNING: Retrying ... Temporary failure in name resolution')': /simple/einops/\nERROR: Could not find a version that satisfies the requirement einops (from versions: none)\nERROR: No matching distribution found for einops";
    expect(hintFor(offline)).toMatch(/could not reach the internet/);
  });

  it('returns null when it has nothing useful to say', () => {
    expect(hintFor('something odd happened')).toBeNull();
  });
});

describe('a build that prints hostile output', () => {
  const { keepLines, maxLine, maxError } = BUILD_LOG_LIMITS;

  it('keeps a bounded window however much is printed without a newline', () => {
    const log = new BuildLog();
    const chunk = 'y'.repeat(64 * 1024);
    for (let i = 0; i < 160; i++) log.push({ stream: chunk }); // 10 MB, one line
    log.push({ stream: '\nnext line\n' });
    log.finish();
    expect(log.lines).toHaveLength(2);
    expect(log.lines[0]!.length).toBeLessThanOrEqual(maxLine);
    expect(log.lines[0]!.endsWith('…')).toBe(true);
    expect(log.lines[1]).toBe('next line');
  });

  it('shows the last redraw of a progress bar, even when its carriage returns arrive in separate chunks', () => {
    const log = new BuildLog();
    for (const piece of ['Downloading 10%', '\r', 'Downloading 60%\r', 'Downloading 100%', '\r', '\n', '\r'.repeat(100_000), 'done\n']) {
      log.push({ stream: piece });
    }
    log.finish();
    expect(log.lines).toEqual(['Downloading 100%', 'done']);
  });

  it('trims long runs of spaces and colour codes without losing the text before them', () => {
    const log = new BuildLog();
    log.push({ stream: `\u001b[91mERROR: boom${' '.repeat(100_000)}\u001b[0m\n` });
    log.push({ stream: `${' '.repeat(100_000)}x\n` });
    log.push({ stream: 'half an escape \u001b[31\n' });
    log.finish();
    // The second line shows only spaces within the part of a line that is kept, so it is blank.
    expect(log.lines).toEqual(['ERROR: boom', 'half an escape \u001b[31']);
  });

  it('caps the error, the step and the number of lines kept', () => {
    const log = new BuildLog();
    log.push({ stream: `Step 1/2 : RUN echo ${'z'.repeat(10_000)}\n` });
    for (let i = 0; i < 1000; i++) log.push({ stream: `line ${i}\n` });
    log.push({ error: `The command returned a non-zero code: 1 ${'e'.repeat(1_000_000)}` });
    expect(log.lines).toHaveLength(keepLines);
    expect(log.lines.at(-1)).toBe('line 999');
    expect(log.currentStep!.instruction.length).toBeLessThanOrEqual(maxLine);
    expect(log.error!.length).toBeLessThanOrEqual(maxError);
    expect(log.hint()).toMatch(/One of the build steps failed/);
  });

  it('finds a missing base image by its one-word name', () => {
    expect(hintFor('manifest for python:9-nope not found: manifest unknown')).toMatch(/base image/);
    expect(hintFor('manifest for  not found')).toBeNull();
  });
});

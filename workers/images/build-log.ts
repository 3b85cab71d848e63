/**
 * Follows Docker's classic build output (the JSON objects `docker build` / the Engine API stream:
 * `{stream}`, `{status}`, `{aux: {ID}}`, `{error, errorDetail: {message}}`) and keeps just what a
 * Slack progress message needs: the current step, the last lines of output, and on failure the
 * failing step, the error and a plain-language hint.
 */

export interface BuildStep {
  number: number;
  total: number;
  /** The instruction as Docker prints it, e.g. `RUN pip install --no-cache-dir einops`. */
  instruction: string;
}

export interface BuildLogSnapshot {
  step: BuildStep | null;
  lines: string[];
  failed: boolean;
  succeeded: boolean;
  error: string | null;
  failedStep: BuildStep | null;
  imageId: string | null;
  hint: string | null;
}

const KEEP_LINES = 20;
const MAX_LINE = 300;
const STEP_RE = /^Step (\d+)\/(\d+) : (.*)$/;
// Escape sequences pip and apt print for colours and cursor movement.
const ANSI_RE = /\u001b\[[0-9;?]*[A-Za-z]/g;
// Docker's bookkeeping lines say nothing to a user and would push real output out of the window.
const NOISE_RE = /^( ---> |Removing intermediate container )/;

export class BuildLog {
  private partial = '';
  private recent: string[] = [];
  private step: BuildStep | null = null;
  private errorText: string | null = null;
  private failingStep: BuildStep | null = null;
  private builtId: string | null = null;
  private sawSuccess = false;

  /** Feeds one decoded JSON object from the build stream; unknown shapes are ignored. */
  push(obj: unknown): void {
    if (typeof obj !== 'object' || obj === null) return;
    const o = obj as Record<string, unknown>;

    if (typeof o.stream === 'string') this.pushText(o.stream);

    if (typeof o.status === 'string' && !('progressDetail' in o) && !('progress' in o)) {
      const id = typeof o.id === 'string' ? `${o.id}: ` : '';
      this.addLine(`${id}${o.status}`);
    }

    if (typeof o.aux === 'object' && o.aux !== null) {
      const id = (o.aux as Record<string, unknown>).ID;
      if (typeof id === 'string') this.builtId = id;
    }

    const detail = typeof o.errorDetail === 'object' && o.errorDetail !== null ? (o.errorDetail as Record<string, unknown>).message : undefined;
    const message = typeof detail === 'string' ? detail : typeof o.error === 'string' ? o.error : null;
    if (message !== null) {
      this.flush();
      this.errorText = clean(message);
      this.failingStep = this.step;
    }
  }

  /** Call at the end of the stream so a last line without a newline is not lost. */
  finish(): void {
    this.flush();
  }

  get currentStep(): BuildStep | null {
    return this.step;
  }

  get totalSteps(): number | null {
    return this.step?.total ?? null;
  }

  /** The last lines of output, oldest first. */
  get lines(): string[] {
    return [...this.recent];
  }

  get failed(): boolean {
    return this.errorText !== null;
  }

  get succeeded(): boolean {
    return !this.failed && (this.builtId !== null || this.sawSuccess);
  }

  get error(): string | null {
    return this.errorText;
  }

  get failedStep(): BuildStep | null {
    return this.failingStep;
  }

  get imageId(): string | null {
    return this.builtId;
  }

  /** A plain-language hint for a failed build, from the error and the output before it. */
  hint(): string | null {
    if (!this.failed) return null;
    return hintFor([...this.recent, this.errorText ?? ''].join('\n'));
  }

  snapshot(): BuildLogSnapshot {
    return {
      step: this.step,
      lines: this.lines,
      failed: this.failed,
      succeeded: this.succeeded,
      error: this.errorText,
      failedStep: this.failingStep,
      imageId: this.builtId,
      hint: this.hint(),
    };
  }

  private pushText(chunk: string): void {
    // Docker splits output arbitrarily (a "Step" line and its "\n" often arrive separately).
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const part of parts) this.addLine(part);
  }

  private flush(): void {
    if (this.partial !== '') this.addLine(this.partial);
    this.partial = '';
  }

  private addLine(raw: string): void {
    const line = clean(raw);
    if (line === '' || NOISE_RE.test(line)) return;
    const m = STEP_RE.exec(line);
    if (m) this.step = { number: Number(m[1]), total: Number(m[2]), instruction: m[3] ?? '' };
    if (/^Successfully built /.test(line)) this.sawSuccess = true;
    this.recent.push(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 1)}…` : line);
    if (this.recent.length > KEEP_LINES) this.recent.splice(0, this.recent.length - KEEP_LINES);
  }
}

/** Drops colour codes and progress-bar redraws (text before the last `\r`), and trailing space. */
function clean(raw: string): string {
  const noAnsi = raw.replace(ANSI_RE, '');
  const afterCr = noAnsi.slice(noAnsi.replace(/\r+$/, '').lastIndexOf('\r') + 1);
  return afterCr.replace(/\s+$/, '');
}

// Most specific first. Network and disk problems come before "no matching distribution", because
// an offline pip reports both and the network is the real cause.
const HINTS: Array<[RegExp, string]> = [
  [/no space left on device/i, 'The server ran out of disk space during the build. This is not something you did wrong: please tell the DS01 admins.'],
  [
    /temporary failure in name resolution|temporary failure resolving|could not resolve host|network is unreachable|failed to establish a new connection|connection timed out|read timed out/i,
    'The build could not reach the internet (PyPI or the Debian/Ubuntu mirrors). Please try again in a few minutes; if it keeps happening, tell the DS01 admins.',
  ],
  [
    /pull access denied|manifest unknown|repository does not exist|manifest for \S+ not found/i,
    'Docker could not fetch the base image named in the `FROM` line of your Dockerfile: check the image name and tag.',
  ],
  [
    /dockerfile parse error|unknown instruction/i,
    'Your Dockerfile has a syntax error. Compare it with `Dockerfile.bak` in the project folder (the version before the last change).',
  ],
  [
    /no matching distribution found|could not find a version that satisfies/i,
    'pip found no matching distribution: check the name and version on PyPI (pypi.org), and that the package supports the Python version in your image.',
  ],
  [
    /unable to locate package|has no installation candidate/i,
    'apt could not find that system package: check the Debian/Ubuntu package name (packages.ubuntu.com) — names are lowercase and often versioned, e.g. `libsndfile1`.',
  ],
  [/resolutionimpossible|conflicting dependencies/i, 'pip found packages whose version requirements conflict: loosen or remove one of the version pins and try again.'],
  [/invalid requirement/i, 'pip did not understand one of the package lines: check its spelling and version syntax, e.g. `rich==13.7.1`.'],
  [
    /returned a non-zero code|did not complete successfully|exit code: \d+/i,
    'One of the build steps failed. The last lines of the build log show why; fix the cause (often a package name or version) and build again.',
  ],
];

/** Plain-language hint for build error text (error message plus recent output); null if unknown. */
export function hintFor(errorText: string): string | null {
  for (const [re, hint] of HINTS) if (re.test(errorText)) return hint;
  return null;
}

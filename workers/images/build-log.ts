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

/**
 * Memory is bounded whatever the build prints: at most KEEP_LINES lines of MAX_LINE characters,
 * one line being read of at most MAX_RAW_LINE characters (the rest of an over-long line is
 * dropped), an error of at most MAX_ERROR characters and a step of at most MAX_LINE.
 */
export const BUILD_LOG_LIMITS = { keepLines: 20, maxLine: 300, maxRawLine: 2_000, maxError: 1_000 } as const;
const KEEP_LINES = BUILD_LOG_LIMITS.keepLines;
const MAX_LINE = BUILD_LOG_LIMITS.maxLine;
const MAX_RAW_LINE = BUILD_LOG_LIMITS.maxRawLine;
const MAX_ERROR = BUILD_LOG_LIMITS.maxError;
const STEP_RE = /^Step (\d+)\/(\d+) : (.*)$/;
// Docker's bookkeeping lines say nothing to a user and would push real output out of the window.
const NOISE_RE = /^( ---> |Removing intermediate container )/;

export class BuildLog {
  /** Visible text of the line being read: after its last carriage return, capped at MAX_RAW_LINE. */
  private partial = '';
  /** A carriage return was read and nothing after it yet: the next text starts the line over. */
  private pendingCr = false;
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
      this.errorText = clean(message, MAX_ERROR);
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
    // Docker splits output arbitrarily (a "Step" line and its "\n" often arrive separately), so
    // the line being read is carried over between chunks: capped, and redrawn at each `\r` the
    // way a terminal shows a progress bar.
    let from = 0;
    while (from <= chunk.length) {
      const nl = chunk.indexOf('\n', from);
      this.appendToLine(chunk.slice(from, nl === -1 ? chunk.length : nl));
      if (nl === -1) return;
      this.flush();
      from = nl + 1;
    }
  }

  private appendToLine(piece: string): void {
    if (piece === '') return;
    const pieces = piece.split('\r');
    pieces.forEach((p, i) => {
      if (i > 0) this.pendingCr = true;
      if (p === '') return;
      if (this.pendingCr) {
        this.partial = '';
        this.pendingCr = false;
      }
      const room = MAX_RAW_LINE - this.partial.length;
      if (room > 0) this.partial += p.length > room ? p.slice(0, room) : p;
    });
  }

  private flush(): void {
    if (this.partial !== '') this.addLine(this.partial);
    this.partial = '';
    this.pendingCr = false;
  }

  private addLine(raw: string): void {
    const line = clean(raw);
    if (line === '' || NOISE_RE.test(line)) return;
    const m = STEP_RE.exec(line);
    if (m) this.step = { number: Number(m[1]), total: Number(m[2]), instruction: (m[3] ?? '').slice(0, MAX_LINE) };
    if (line.startsWith('Successfully built ')) this.sawSuccess = true;
    this.recent.push(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 1)}…` : line);
    if (this.recent.length > KEEP_LINES) this.recent.splice(0, this.recent.length - KEEP_LINES);
  }
}

/**
 * The visible text of one line: what follows its last carriage return (progress-bar redraws),
 * at most `max` characters of it, without colour codes or trailing whitespace. Index scans only.
 */
function clean(raw: string, max: number = MAX_RAW_LINE): string {
  let end = raw.length;
  while (end > 0 && raw[end - 1] === '\r') end -= 1;
  const start = raw.lastIndexOf('\r', end - 1) + 1;
  const visible = raw.slice(start, Math.min(end, start + max));
  return stripAnsi(visible).trimEnd();
}

/** Drops the escape sequences (`ESC [ params letter`) pip and apt print for colours and cursor moves. */
function stripAnsi(s: string): string {
  if (!s.includes('\u001b')) return s;
  let out = '';
  let from = 0;
  for (;;) {
    const esc = s.indexOf('\u001b', from);
    if (esc === -1) return out + s.slice(from);
    out += s.slice(from, esc);
    let k = esc + 1;
    if (s[k] !== '[') {
      out += '\u001b';
      from = k;
      continue;
    }
    k += 1;
    while (k < s.length && ANSI_PARAM.includes(s[k]!)) k += 1;
    if (k < s.length && ANSI_FINAL_RE.test(s[k]!)) from = k + 1;
    else {
      // Not a complete sequence: keep the text as it was.
      out += s.slice(esc, k);
      from = k;
    }
  }
}

const ANSI_PARAM = '0123456789;?';
const ANSI_FINAL_RE = /^[A-Za-z]$/;

// Most specific first. Network and disk problems come before "no matching distribution", because
// an offline pip reports both and the network is the real cause. Each hint is a list of phrases
// looked for in the lowercased text (plain substring search: linear, whatever the build printed).
const HINTS: Array<[string[], string]> = [
  [['no space left on device'], 'The server ran out of disk space during the build. This is not something you did wrong: please tell the DS01 admins.'],
  [
    [
      'temporary failure in name resolution',
      'temporary failure resolving',
      'could not resolve host',
      'network is unreachable',
      'failed to establish a new connection',
      'connection timed out',
      'read timed out',
    ],
    'The build could not reach the internet (PyPI or the Debian/Ubuntu mirrors). Please try again in a few minutes; if it keeps happening, tell the DS01 admins.',
  ],
  [
    ['pull access denied', 'manifest unknown', 'repository does not exist', 'manifest for '],
    'Docker could not fetch the base image named in the `FROM` line of your Dockerfile: check the image name and tag.',
  ],
  [
    ['dockerfile parse error', 'unknown instruction'],
    'Your Dockerfile has a syntax error. Compare it with `Dockerfile.bak` in the project folder (the version before the last change).',
  ],
  [
    ['no matching distribution found', 'could not find a version that satisfies'],
    'pip found no matching distribution: check the name and version on PyPI (pypi.org), and that the package supports the Python version in your image.',
  ],
  [
    ['unable to locate package', 'has no installation candidate'],
    'apt could not find that system package: check the Debian/Ubuntu package name (packages.ubuntu.com) — names are lowercase and often versioned, e.g. `libsndfile1`.',
  ],
  [['resolutionimpossible', 'conflicting dependencies'], 'pip found packages whose version requirements conflict: loosen or remove one of the version pins and try again.'],
  [['invalid requirement'], 'pip did not understand one of the package lines: check its spelling and version syntax, e.g. `rich==13.7.1`.'],
  [
    ['returned a non-zero code', 'did not complete successfully', 'exit code:'],
    'One of the build steps failed. The last lines of the build log show why; fix the cause (often a package name or version) and build again.',
  ],
];

/** How much of the error text the hints look at: the log window plus an error fit well within it. */
const MAX_HINT_TEXT = 16_000;

/** Plain-language hint for build error text (error message plus recent output); null if unknown. */
export function hintFor(errorText: string): string | null {
  const text = errorText.slice(-MAX_HINT_TEXT).toLowerCase();
  for (const [phrases, hint] of HINTS) {
    if (phrases.some((p) => (p === 'manifest for ' ? manifestNotFound(text) : text.includes(p)))) return hint;
  }
  return null;
}

/** `manifest for <image> not found` (the image name is one word). */
function manifestNotFound(text: string): boolean {
  let from = 0;
  for (;;) {
    const at = text.indexOf('manifest for ', from);
    if (at === -1) return false;
    const nameStart = at + 'manifest for '.length;
    let k = nameStart;
    while (k < text.length && !/^\s$/.test(text[k]!)) k += 1;
    if (k > nameStart && text.startsWith(' not found', k)) return true;
    from = nameStart;
  }
}

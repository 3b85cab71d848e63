/**
 * Which images a Dockerfile builds from: every `FROM` and `COPY --from=` (and `RUN --mount=…from=`),
 * with `ARG` defaults and the build args resolved the way Docker does. A build may use the user's
 * own images and public ones, never another user's `ds01-<uid>/…` image: that would copy their
 * files (and anything secret baked into them) into this user's image.
 */
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { MAX_DOCKERFILE_CHARS, parseDockerfile, type ShellWord } from './dockerfile-parse.js';

const isNameChar = (c: string | undefined, first: boolean) =>
  c !== undefined && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c === '_' || (!first && c >= '0' && c <= '9'));

/**
 * Docker's variable forms in one word: `${NAME}`, `${NAME:-default}`, `${NAME:+alt}` and `$NAME`.
 * A plain left-to-right scan (linear): once a `${` has no closing `}`, none later can, and the
 * rest is kept as written.
 */
export function substitute(word: string, vars: Map<string, string>): string {
  let out = '';
  let i = 0;
  while (i < word.length) {
    const dollar = word.indexOf('$', i);
    if (dollar < 0) break;
    out += word.slice(i, dollar);
    if (word[dollar + 1] === '{') {
      const close = word.indexOf('}', dollar + 2);
      if (close < 0) return out + word.slice(dollar);
      const inner = word.slice(dollar + 2, close);
      const colon = inner.indexOf(':');
      const name = colon < 0 ? inner : inner.slice(0, colon);
      const value = vars.get(name) ?? '';
      const op = colon < 0 ? '' : inner[colon + 1];
      const alt = colon < 0 ? '' : inner.slice(colon + 2);
      out += op === '-' ? value || alt : op === '+' ? (value ? alt : '') : value;
      i = close + 1;
    } else {
      let end = dollar + 1;
      while (isNameChar(word[end], end === dollar + 1)) end += 1;
      out += end === dollar + 1 ? '$' : (vars.get(word.slice(dollar + 1, end)) ?? '');
      i = end;
    }
  }
  return out + word.slice(i);
}

/** The uid of a DS01 image reference (`ds01-1001/demo:latest`, `docker.io/ds01-1001/demo`), or null. */
export function ds01Owner(ref: string): number | null {
  let r = ref.trim().toLowerCase();
  for (const prefix of ['docker.io/library/', 'index.docker.io/', 'docker.io/']) if (r.startsWith(prefix)) r = r.slice(prefix.length);
  if (!r.startsWith('ds01-')) return null;
  const slash = r.indexOf('/');
  const digits = r.slice(5, slash < 0 ? undefined : slash);
  return slash > 5 && /^[0-9]+$/.test(digits) ? Number(digits) : null;
}

const firstArg = (words: ShellWord[]): string | undefined => words.find((w) => !w.value.startsWith('--'))?.value;

/**
 * The image references a Dockerfile pulls content from (stage names left out). Throws a sentence
 * when the file cannot be read reliably enough to tell.
 */
export function imageReferences(dockerfile: string, buildArgs: Record<string, string>): string[] {
  // The parser refuses two things: a file over its size cap and a custom escape character. Each
  // gets its own sentence (a 900 kB file of blank runs was once told it had an escape directive).
  if (dockerfile.length > MAX_DOCKERFILE_CHARS) {
    throw new Ds01Error(
      ErrorCode.BadInput,
      `Your Dockerfile is larger than ${MAX_DOCKERFILE_CHARS / 1000} kB, more than I can read safely to check which images it builds from, so I did not build. Please shorten it and try again.`,
      { detail: `Dockerfile of ${dockerfile.length} characters` },
    );
  }
  let df;
  try {
    df = parseDockerfile(dockerfile);
  } catch {
    throw new Ds01Error(
      ErrorCode.BadInput,
      'Your Dockerfile sets a custom escape character (`# escape=`), so I cannot check which images it builds from, and I did not build. Remove that line and try again.',
    );
  }
  const globalArgs = new Map<string, string>();
  let stageArgs = new Map<string, string>();
  const stages = new Set<string>();
  const refs: string[] = [];
  let seenFrom = false;
  const argValue = (name: string) => buildArgs[name] ?? undefined;
  const scope = () => new Map([...globalArgs, ...stageArgs]);

  for (const ins of df.instructions) {
    const words = ins.tokens.filter((t): t is ShellWord => t.kind === 'word');
    if (ins.opaque && (ins.keyword === 'FROM' || ins.keyword === 'COPY' || ins.keyword === 'ARG')) {
      throw new Ds01Error(
        ErrorCode.BadInput,
        `Your Dockerfile has a ${ins.keyword} line (line ${ins.firstLine + 1}) I cannot read reliably, so I cannot tell which images it uses, and I did not build. Write it on plain lines and try again.`,
      );
    }
    if (ins.keyword === 'ARG') {
      for (const w of words) {
        const eq = w.value.indexOf('=');
        const name = eq < 0 ? w.value : w.value.slice(0, eq);
        const def = eq < 0 ? undefined : substitute(w.value.slice(eq + 1), scope());
        const value = argValue(name) ?? def ?? (seenFrom ? globalArgs.get(name) : undefined) ?? '';
        (seenFrom ? stageArgs : globalArgs).set(name, value);
      }
    } else if (ins.keyword === 'FROM') {
      seenFrom = true;
      stageArgs = new Map();
      const image = substitute(firstArg(words) ?? '', globalArgs);
      const asIdx = words.findIndex((w) => w.value.toLowerCase() === 'as');
      if (asIdx >= 0 && words[asIdx + 1]) stages.add(words[asIdx + 1]!.value.toLowerCase());
      if (image && image.toLowerCase() !== 'scratch' && !stages.has(image.toLowerCase())) refs.push(image);
    } else if (ins.keyword === 'COPY' || ins.keyword === 'RUN') {
      for (const w of words) {
        if (!w.value.startsWith('--')) continue;
        const v = substitute(w.value, scope());
        const from = v.startsWith('--from=') ? v.slice(7) : v.startsWith('--mount=') ? mountFrom(v.slice(8)) : null;
        if (from && !stages.has(from.toLowerCase()) && !/^[0-9]+$/.test(from)) refs.push(from);
      }
    }
  }
  return refs;
}

/** The `from=` of a `--mount=type=…,from=…` option. */
function mountFrom(spec: string): string | null {
  for (const part of spec.split(',')) if (part.startsWith('from=')) return part.slice(5);
  return null;
}

/** The first reference that is another user's DS01 image, or null. */
export function foreignImage(refs: string[], ownerUid: number): string | null {
  return (
    refs.find((r) => {
      const uid = ds01Owner(r);
      return uid !== null && uid !== ownerUid;
    }) ?? null
  );
}

/** What the user reads when their Dockerfile uses another user's image. */
export function foreignImageSentence(ref: string, ownerUid: number): string {
  return `Your Dockerfile builds from \`${ref.slice(0, 120)}\`, which is another user's DS01 image. Images can only build from your own \`ds01-${ownerUid}/…\` images or public base images, so I did not build. Change that line and try again.`;
}

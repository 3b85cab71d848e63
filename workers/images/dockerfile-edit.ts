/**
 * Plans the Dockerfile (and requirements.txt) change that bakes packages into a project image,
 * the way DS01's `image-update` does, as a pure text-to-text function.
 *
 * Where things go:
 * - Python packages: into the `RUN pip install` directly under the `# Custom additional packages`
 *   marker (created if missing), or into requirements.txt when the final stage COPYs it and pip
 *   installs it with `-r`.
 * - System packages: into the first `apt-get install` command of the final stage, or into a new
 *   `# DS01 system packages` block placed before the Python packages.
 *
 * A package already present (compared by normalised name, anywhere in the final stage's pip/apt
 * commands) is not added twice. A new version/extras for a present package replaces the old
 * specifier in place; a bare name for a package that is already pinned leaves the pin alone,
 * because the user's wish ("have numpy in the image") is already met. Every byte outside the
 * changed words and inserted lines is kept, including CRLF line endings and a missing final
 * newline, so applying the same edit twice changes nothing the second time.
 */
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { PACKAGE_LIMITS, debianPackageName, nameForField, packageName, parsePackageSpec, type PackageField } from '../../src/images/package-spec.js';
import { assertDockerfileSize, finalStageFirstLine, finalStageStart, instructionAtLine, parseDockerfile, type ParsedDockerfile, type ShellWord } from './dockerfile-parse.js';
import { findAptInstalls, findPipInstalls, usesContextRequirementsTxt, type InstallCommand } from './install-commands.js';
import { editRequirements, requirementEntries, type RequirementEntry } from './requirements-txt.js';

export const CUSTOM_PACKAGES_MARKER = '# Custom additional packages';
export const SYSTEM_PACKAGES_MARKER = '# DS01 system packages';
const MARKER_RE = /^[ \t]*#[ \t]*Custom additional packages\b/i;

export interface ImageEditInput {
  dockerfile: string;
  /** Content of the project's requirements.txt, or null when there is none. */
  requirementsTxt: string | null;
  /** Validated, normalised Python requirement specifiers. */
  python: string[];
  /** Validated Debian package specifiers. */
  system: string[];
}

export interface Replacement {
  from: string;
  to: string;
}

export interface ImageEditPlan {
  dockerfile: string;
  requirementsTxt: string | null;
  changed: boolean;
  added: { python: string[]; system: string[] };
  replaced: { python: Replacement[]; system: Replacement[] };
  /** Requested packages that were already there (same spec, or a bare name already present). */
  alreadyPresent: { python: string[]; system: string[] };
  pythonTarget: 'dockerfile' | 'requirements.txt';
}

interface Edit {
  start: number;
  end: number;
  text: string;
  /** Tie-break for edits at the same offset: lower order ends up first in the text. */
  order: number;
}

/** Whether new Python packages for this Dockerfile go into the project's requirements.txt. */
export function usesRequirementsTxt(dockerfile: string): boolean {
  return usesContextRequirementsTxt(parseDockerfile(dockerfile));
}

export function planImageEdit(input: ImageEditInput): ImageEditPlan {
  // Sizes first: everything below is linear, and this bounds how much work "linear" is.
  assertDockerfileSize(input.dockerfile);
  // Defence in depth: the bot validates the modal, but this is the last stop before a Dockerfile.
  assertValidated('python', input.python);
  assertValidated('system', input.system);

  const df = parseDockerfile(input.dockerfile);
  if (df.unterminatedHeredoc && (input.python.length > 0 || input.system.length > 0)) {
    // Lines added at the end would land inside the heredoc's text, not after it.
    throw new Ds01Error(
      ErrorCode.BadInput,
      'Your Dockerfile has a heredoc (such as `<<EOF`) that is never closed by its end word, so I cannot tell where to add packages. Nothing was changed: please close it (or add the packages by hand) and rebuild.',
      { detail: 'unterminated heredoc' },
    );
  }
  const pips = findPipInstalls(df);
  const apts = findAptInstalls(df);
  const pythonTarget = usesContextRequirementsTxt(df, pips) ? 'requirements.txt' : 'dockerfile';
  const reqEntries = pythonTarget === 'requirements.txt' ? requirementEntries(input.requirementsTxt ?? '') : [];

  const edits: Edit[] = [];
  const reqReplacements: Array<{ entry: RequirementEntry; spec: string }> = [];
  const added = { python: [] as string[], system: [] as string[] };
  const replaced = { python: [] as Replacement[], system: [] as Replacement[] };
  const alreadyPresent = { python: [] as string[], system: [] as string[] };

  // --- Python: find what is there already.
  const pipWords = pips.flatMap((p) => p.packages).filter((w) => looksLikePythonRequirement(w.value));
  const pyToAdd: string[] = [];
  for (const spec of input.python) {
    const name = packageName(spec);
    const inDockerfile = pipWords.filter((w) => packageName(w.value) === name);
    const inRequirements = reqEntries.filter((e) => e.name === name);
    if (inDockerfile.length === 0 && inRequirements.length === 0) {
      pyToAdd.push(spec);
      continue;
    }
    const differing = [
      ...inDockerfile.filter((w) => normalisedExisting('python', w.value) !== spec).map((w) => ({ from: w.value, w })),
      ...inRequirements.filter((e) => normalisedExisting('python', e.value) !== spec).map((e) => ({ from: e.value, e })),
    ];
    if (isBare('python', spec) || differing.length === 0) {
      alreadyPresent.python.push(spec);
      continue;
    }
    for (const d of differing) {
      if ('w' in d) edits.push(replaceWord(d.w, spec));
      else reqReplacements.push({ entry: d.e, spec });
    }
    replaced.python.push({ from: differing[0]!.from, to: spec });
  }

  // --- System: same, against apt-get install commands.
  const aptWords = apts.flatMap((a) => a.packages).filter((w) => looksLikeDebianPackage(w.value));
  const sysToAdd: string[] = [];
  for (const spec of input.system) {
    const name = debianPackageName(spec);
    const present = aptWords.filter((w) => debianPackageName(w.value) === name);
    if (present.length === 0) {
      sysToAdd.push(spec);
      continue;
    }
    const differing = present.filter((w) => w.value !== spec);
    if (isBare('system', spec) || differing.length === 0) {
      alreadyPresent.system.push(spec);
      continue;
    }
    for (const w of differing) edits.push(replaceWord(w, spec));
    replaced.system.push({ from: differing[0]!.value, to: spec });
  }

  // --- Where new lines go.
  const stageLine = finalStageFirstLine(df);
  const markerLine = df.lines.findIndex((l, i) => i >= stageLine && df.lineKinds[i] === 'comment' && MARKER_RE.test(l.text));
  const anchorLine = finalAnchorLine(df);

  let newPipBlockLine = -1;
  if (pyToAdd.length > 0 && pythonTarget === 'dockerfile') {
    if (markerLine >= 0) {
      // DS01's CLI looks for the RUN line right below the marker, so a new one goes there. A RUN
      // written by hand after the generator's help comments is found and extended too.
      let k = markerLine + 1;
      while (k < df.lines.length && df.lineKinds[k] === 'comment') k += 1;
      const underMarker = pips.find((p) => p.instruction.firstLine === markerLine + 1) ?? pips.find((p) => p.instruction.firstLine === k);
      if (underMarker) edits.push(appendToCommand(df, underMarker, pyToAdd.map(shellWord), 1));
      else edits.push(insertBlock(df, markerLine + 1, [pipBlock(pyToAdd)], false, 1));
    } else {
      newPipBlockLine = anchorLine;
    }
  }

  if (sysToAdd.length > 0) {
    const firstApt = apts[0];
    if (firstApt) {
      edits.push(appendToCommand(df, firstApt, sysToAdd.map(shellWord), 0));
    } else {
      // Before any Python install (system libraries are often what a pip build needs) and before a
      // USER switch (apt-get needs root).
      const candidates = [anchorLine];
      if (markerLine >= 0) candidates.push(blockStartAbove(df, markerLine, false));
      const firstPip = pips[0];
      if (firstPip) candidates.push(blockStartAbove(df, firstPip.instruction.firstLine, true));
      const aptLine = Math.min(...candidates);
      if (aptLine === newPipBlockLine) {
        edits.push(insertBlock(df, aptLine, [aptBlock(sysToAdd), markedPipBlock(pyToAdd)], true, 0));
        newPipBlockLine = -1;
      } else {
        edits.push(insertBlock(df, aptLine, [aptBlock(sysToAdd)], true, 0));
      }
    }
  }
  if (newPipBlockLine >= 0) edits.push(insertBlock(df, newPipBlockLine, [markedPipBlock(pyToAdd)], true, 1));

  if (df.danglingContinuation && edits.some((e) => e.start === input.dockerfile.length && e.text !== '')) {
    throw new Ds01Error(
      ErrorCode.BadInput,
      'The last line of your Dockerfile ends with `\\`, which would join it to anything added after it, so nothing was changed. Please remove that trailing `\\` (or add the packages by hand) and rebuild.',
      { detail: 'dangling continuation at end of file' },
    );
  }
  const dockerfile = applyEdits(input.dockerfile, edits);
  const reqAdditions = pythonTarget === 'requirements.txt' ? pyToAdd : [];
  const requirementsTxt = reqReplacements.length > 0 || reqAdditions.length > 0 ? editRequirements(input.requirementsTxt, reqReplacements, reqAdditions) : input.requirementsTxt;

  added.python = pyToAdd;
  added.system = sysToAdd;
  return {
    dockerfile,
    requirementsTxt,
    changed: dockerfile !== input.dockerfile || requirementsTxt !== input.requirementsTxt,
    added,
    replaced,
    alreadyPresent,
    pythonTarget,
  };
}

function assertValidated(field: PackageField, specs: readonly string[]): void {
  const refuse = (detail: string): never => {
    throw new Ds01Error(ErrorCode.BadInput, 'Some of the packages could not be accepted, so your Dockerfile was left unchanged. Please check the list and try again.', {
      detail: `planImageEdit: ${field}: ${detail}`,
    });
  };
  if (!Array.isArray(specs)) refuse('not a list');
  if (specs.length > PACKAGE_LIMITS.maxPackagesPerField) refuse(`${specs.length} packages`);
  const seen = new Set<string>();
  for (const spec of specs) {
    if (typeof spec !== 'string') refuse('non-string spec');
    const parsed = parsePackageSpec(field, spec);
    if (!parsed.ok) refuse(`invalid spec ${JSON.stringify(spec)}: ${parsed.reason}`);
    else if (parsed.spec !== spec) refuse(`spec not normalised: ${JSON.stringify(spec)}`);
    // Validated specs never contain a quote; the single-quoting below depends on it.
    if (spec.includes("'")) refuse(`quote in ${JSON.stringify(spec)}`);
    const name = nameForField(field, spec);
    if (seen.has(name)) refuse(`duplicate ${name}`);
    seen.add(name);
  }
}

/** A hand-written pip argument that names a PyPI package (not a path, URL or variable). */
function looksLikePythonRequirement(v: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[A-Za-z0-9._, -]*\])?(?:[ ]*[<>=!~].*)?$/.test(v) && !/[/$:@;]/.test(v);
}

function looksLikeDebianPackage(v: string): boolean {
  return /^[a-z0-9][a-z0-9+.-]+(?:[:=/][A-Za-z0-9.+:~-]+)?$/.test(v);
}

function normalisedExisting(field: PackageField, value: string): string {
  const parsed = parsePackageSpec(field, value);
  return parsed.ok ? parsed.spec : value;
}

function isBare(field: PackageField, spec: string): boolean {
  return field === 'python' ? /^[A-Za-z0-9._-]+$/.test(spec) : !spec.includes('=');
}

/**
 * Shell-safe form of a validated spec for a RUN line: `rich>=13` unquoted would be a redirect and
 * `pkg[extra]` a glob, so anything beyond plain name characters is single-quoted.
 */
function shellWord(spec: string): string {
  return /^[A-Za-z0-9._=+,-]+$/.test(spec) ? spec : `'${spec}'`;
}

function replaceWord(word: ShellWord, spec: string): Edit {
  return { start: word.start, end: word.end, text: shellWord(spec), order: 0 };
}

function pipBlock(specs: string[]): string[] {
  return ['RUN pip install --no-cache-dir \\', ...specs.map((s, i) => `    ${shellWord(s)}${i < specs.length - 1 ? ' \\' : ''}`)];
}

function markedPipBlock(specs: string[]): string[] {
  return [CUSTOM_PACKAGES_MARKER, ...pipBlock(specs)];
}

function aptBlock(specs: string[]): string[] {
  return [
    SYSTEM_PACKAGES_MARKER,
    'RUN apt-get update && apt-get install -y --no-install-recommends \\',
    ...specs.map((s) => `    ${shellWord(s)} \\`),
    '    && rm -rf /var/lib/apt/lists/*',
  ];
}

/**
 * Line before which new blocks go when there is no marker: the final stage's first USER, CMD or
 * ENTRYPOINT (with the comments right above it), else the end of the file.
 */
function finalAnchorLine(df: ParsedDockerfile): number {
  const from = finalStageStart(df);
  const anchor = df.instructions.find((ins, idx) => idx >= from && ['USER', 'CMD', 'ENTRYPOINT'].includes(ins.keyword));
  return anchor ? blockStartAbove(df, anchor.firstLine, false) : df.lines.length;
}

/** Walks up over the comment lines (and optionally a COPY/ADD) that belong to the line below. */
function blockStartAbove(df: ParsedDockerfile, line: number, includeCopy: boolean): number {
  const floor = finalStageFirstLine(df);
  let k = line;
  while (k > floor && df.lineKinds[k - 1] === 'comment') k -= 1;
  if (includeCopy && k > floor && df.lineKinds[k - 1] === 'instruction') {
    const above = instructionAtLine(df, k - 1);
    if (above && (above.keyword === 'COPY' || above.keyword === 'ADD')) {
      k = above.firstLine;
      while (k > floor && df.lineKinds[k - 1] === 'comment') k -= 1;
    }
  }
  return k;
}

/**
 * Adds words after the last word of an install command, in the style already used there: one
 * package per continuation line (`    pkg \`) when the list is written vertically, else on the
 * same line.
 */
function appendToCommand(df: ParsedDockerfile, cmd: InstallCommand, words: string[], order: number): Edit {
  const last = cmd.words[cmd.words.length - 1]!;
  const line = df.lines[last.line]!;
  const rest = df.text.slice(last.end, line.end);
  const firstOnLine = cmd.instruction.tokens.find((t) => t.line === last.line);
  const vertical = firstOnLine?.kind === 'word' && cmd.words.indexOf(firstOnLine) >= cmd.argsFrom;
  const indent = /^[ \t]*/.exec(line.text)?.[0] || '    ';
  const eol = df.eol;

  if (vertical && /^[ \t]*\\[ \t]*$/.test(rest)) {
    const prefix = line.next === line.end ? eol : '';
    return { start: line.next, end: line.next, text: prefix + words.map((w) => `${indent}${w} \\${eol}`).join(''), order };
  }
  if (vertical && rest.trim() === '' && last.line === cmd.instruction.lastLine) {
    return { start: last.end, end: last.end, text: ` \\${eol}` + words.map((w) => `${indent}${w}`).join(` \\${eol}`), order };
  }
  return { start: last.end, end: last.end, text: words.map((w) => ` ${w}`).join(''), order };
}

/**
 * Inserts whole lines before physical line `line` (or at the end of the file), separated from
 * their neighbours by one blank line where the neighbour is not blank already.
 */
function insertBlock(df: ParsedDockerfile, line: number, blocks: string[][], blankBefore: boolean, order: number): Edit {
  const { lines, eol, text } = df;
  const body: string[] = [];
  blocks.forEach((b, i) => {
    if (i > 0) body.push('');
    body.push(...b);
  });
  if (blankBefore && line > 0 && lines[line - 1]!.text.trim() !== '') body.unshift('');
  if (line < lines.length && lines[line]!.text.trim() !== '') body.push('');

  if (line < lines.length) {
    const at = lines[line]!.start;
    return { start: at, end: at, text: body.map((l) => l + eol).join(''), order };
  }
  if (text === '' || text.endsWith('\n')) return { start: text.length, end: text.length, text: body.map((l) => l + eol).join(''), order };
  // The file has no final newline: keep it that way.
  return { start: text.length, end: text.length, text: eol + body.join(eol), order };
}

function applyEdits(text: string, edits: Edit[]): string {
  // Back to front so earlier offsets stay valid. At one offset a replacement goes before an
  // insertion (so the insertion lands in front of the replaced word, not inside it).
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end || b.order - a.order);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

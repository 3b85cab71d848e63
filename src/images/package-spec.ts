/**
 * Validation of the package lists a user types into the "Add packages" modal.
 *
 * Whatever passes here ends up inside a Dockerfile that is built on the shared server, so the rules
 * are an allow-list, not a block-list: a Python line must be a strict subset of PEP 508 (name,
 * optional extras, optional version specifiers) and a system line a plain Debian package name with
 * an optional `=version`. Everything else (URLs, environment markers, pip/apt options, shell
 * syntax, non-ASCII look-alike letters) is refused with a sentence the user can act on.
 *
 * Decisions worth knowing:
 * - Debian versions (`ffmpeg=7:6.1.1-3ubuntu5`) are allowed; the Dockerfile editor quotes them.
 * - Duplicate package names within one field are an error (not "last wins"), so nothing the user
 *   typed is silently dropped.
 * - Blank lines, lines starting with `#`, and trailing ` # comments` are ignored, so a pasted
 *   requirements.txt mostly just works.
 */

import { leadingSpaceTab, stripInlineComment, trimEndChars, trimSpaceTab } from '../shared/text-scan.js';

export type PackageField = 'python' | 'system';

export interface LineError {
  /** 1-based line number in the field as typed; 0 for a problem with the whole field. */
  line: number;
  text: string;
  reason: string;
}

export type PackageLinesResult = { ok: true; packages: string[] } | { ok: false; errors: LineError[] };
export type PackageSpecResult = { ok: true; spec: string } | { ok: false; reason: string };

export const PACKAGE_LIMITS = {
  /** Packages (non-blank, non-comment lines) per field. */
  maxPackagesPerField: 50,
  /** Characters per line, after trimming. */
  maxLineLength: 100,
  /** Raw lines per field, blanks and comments included; bounds the work before anything is parsed. */
  maxRawLines: 200,
  /** Characters per field; bounds the work before anything is parsed. */
  maxFieldLength: 10_000,
} as const;

/** Raw characters accepted before trimming: a line is refused before anything else looks at it. */
const MAX_RAW_SPEC = 1_000;
/** Characters of a requirement that `packageName` reads: longer names do not exist on PyPI. */
const MAX_NAME_SCAN = 1_000;

// PEP 508 name: letters/digits, with runs of `.`, `_`, `-` allowed inside but not at either end.
// Written as alternating runs (not `[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?`) so that every
// character can be matched in only one way: no backtracking, whatever the input.
const NAME_RE = /^[A-Za-z0-9]+(?:[._-]+[A-Za-z0-9]+)*$/;
const NAME_PREFIX_RE = /^[A-Za-z0-9]+(?:[._-]+[A-Za-z0-9]+)*/;
// One version specifier (`>=1.2`); whitespace after the operator is tolerated and dropped.
const SPECIFIER_RE = /^(===|==|!=|<=|>=|~=|<|>)[ \t]*([A-Za-z0-9.*+!_-]+)$/;

// Debian policy: lowercase, at least two characters, starting with a letter or digit. A version
// must start with a digit (upstream version rule), which also keeps `=-o...` out.
const DEBIAN_SPEC_RE = /^([a-z0-9][a-z0-9+.-]+)(?:=([0-9][A-Za-z0-9.+:~-]*))?$/;

// Control characters other than tab (which is treated as a space around operators).
const CONTROL_RE = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const NON_ASCII_RE = /[^\u0000-\u007f]/u;

const PYTHON_GENERIC =
  'only a package name with an optional version is allowed here — no spaces, `;`, URLs or pip options. For example `rich==13.7.1` or `transformers[torch]>=4.40`.';
const SYSTEM_GENERIC =
  'only a Debian package name (lowercase letters, digits, `+`, `-`, `.`) with an optional `=version` is allowed here — no spaces, `;` or apt options. For example `ffmpeg`.';

/** Validates and normalises one package line (already trimmed of comments by the caller or not). */
export function parsePackageSpec(field: PackageField, text: string): PackageSpecResult {
  // The cap comes first, on the raw text: nothing below then ever sees more than a few hundred characters.
  if (text.length > MAX_RAW_SPEC) {
    return { ok: false, reason: `is longer than ${PACKAGE_LIMITS.maxLineLength} characters — package names are never that long.` };
  }
  const trimmed = trimSpaceTab(text);
  if (trimmed === '') return { ok: false, reason: 'is empty.' };
  if (trimmed.length > PACKAGE_LIMITS.maxLineLength) {
    return { ok: false, reason: `is longer than ${PACKAGE_LIMITS.maxLineLength} characters — package names are never that long.` };
  }
  if (CONTROL_RE.test(trimmed)) {
    return { ok: false, reason: 'contains an invisible control character (such as a line break or NUL). Please retype it.' };
  }
  const nonAscii = NON_ASCII_RE.exec(trimmed);
  if (nonAscii) {
    const ch = nonAscii[0];
    const code = ch.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0') ?? '????';
    return {
      ok: false,
      reason: `contains "${ch}" (U+${code}), which is not a plain ASCII character even if it looks like one. Please retype the name using plain letters and digits.`,
    };
  }
  return field === 'python' ? parsePythonSpec(trimmed) : parseDebianSpec(trimmed);
}

function parsePythonSpec(s: string): PackageSpecResult {
  if (s.startsWith('-')) {
    return { ok: false, reason: 'pip options (anything starting with `-`) are not allowed — write just the package name, e.g. `rich==13.7.1`.' };
  }
  if (s.includes('://') || s.includes('@')) {
    return { ok: false, reason: 'URLs and `name @ url` installs are not allowed — only packages from PyPI, by name.' };
  }
  if (s.includes(';')) {
    return { ok: false, reason: 'environment markers and anything after `;` are not allowed. ' + capitalise(PYTHON_GENERIC) };
  }
  const spec = readPythonSpec(s);
  if (spec === null) return { ok: false, reason: describeBadChar(s, /[A-Za-z0-9._\-[\],=!<>~*+ \t]/) + PYTHON_GENERIC };
  return { ok: true, spec };
}

/**
 * `name [extras] specifiers` → the normalised spec (`name[a,b]>=1,<2`), or null when the text is
 * not that shape. Whitespace is tolerated only around brackets, commas and operators. A scan with
 * anchored, unambiguous regexes per piece, so the work is linear in the (already capped) length.
 */
function readPythonSpec(s: string): string | null {
  const name = NAME_PREFIX_RE.exec(s)?.[0];
  if (name === undefined) return null;
  let rest = trimSpaceTab(s.slice(name.length));
  let extras = '';
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1) return null;
    const names = rest.slice(1, close).split(',').map(trimSpaceTab);
    if (!names.every((e) => NAME_RE.test(e))) return null;
    extras = `[${names.join(',')}]`;
    rest = trimSpaceTab(rest.slice(close + 1));
  }
  if (rest === '') return `${name}${extras}`;
  const specifiers: string[] = [];
  for (const part of rest.split(',')) {
    const sm = SPECIFIER_RE.exec(trimSpaceTab(part));
    if (!sm) return null;
    specifiers.push(`${sm[1]}${sm[2]}`);
  }
  return `${name}${extras}${specifiers.join(',')}`;
}

function parseDebianSpec(s: string): PackageSpecResult {
  if (s.startsWith('-')) {
    return { ok: false, reason: 'apt options (anything starting with `-`) are not allowed — write just the Debian package name, e.g. `ffmpeg`.' };
  }
  const eq = s.indexOf('=');
  const compact = eq === -1 ? s : `${trimSpaceTab(s.slice(0, eq))}=${trimSpaceTab(s.slice(eq + 1))}`;
  const m = DEBIAN_SPEC_RE.exec(compact);
  if (!m) {
    const name = compact.split('=')[0] ?? '';
    if (/^[A-Za-z0-9+.-]+$/.test(name) && /[A-Z]/.test(name)) {
      return { ok: false, reason: 'Debian package names are all lowercase, e.g. `libsndfile1`.' };
    }
    return { ok: false, reason: describeBadChar(s, /[a-z0-9+.\-=:~A-Z]/) + SYSTEM_GENERIC };
  }
  return { ok: true, spec: m[2] === undefined ? (m[1] ?? '') : `${m[1]}=${m[2]}` };
}

/** Names the first character outside `allowed`, so the user knows what to remove. */
function describeBadChar(s: string, allowed: RegExp): string {
  for (const ch of s) {
    if (ch === ' ' || ch === '\t') continue;
    if (!allowed.test(ch)) return `\`${ch}\` is not allowed: `;
  }
  if (/[ \t]/.test(s)) return 'spaces inside a name are not allowed: ';
  return '';
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * PEP 503 normalised name of a Python requirement (`Foo_Bar.baz[x]>=1` → `foo-bar-baz`), for
 * comparing packages regardless of how they were spelled. Lenient: works on any line that starts
 * with a name, not only on validated specs.
 */
export function packageName(spec: string): string {
  const lead = leadingSpaceTab(spec);
  const m = /^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(spec.slice(lead, lead + MAX_NAME_SCAN));
  const raw = trimEndChars(m?.[0] ?? '', '._-');
  return raw.toLowerCase().replace(/[-_.]+/g, '-');
}

/** Debian package name of a system spec (`ffmpeg=7:6.1` → `ffmpeg`); Debian names are compared exactly. */
export function debianPackageName(spec: string): string {
  // `:arch` and `/release` suffixes can appear in hand-written apt lines; the name is what precedes them.
  return (spec.split(/[=:/]/)[0] ?? '').trim();
}

/** The name used to detect duplicates in `field`. */
export function nameForField(field: PackageField, spec: string): string {
  return field === 'python' ? packageName(spec) : debianPackageName(spec);
}

/**
 * Parses a multi-line field: one package per line; blank lines, `#` lines and trailing
 * ` # comments` are ignored; `\r\n` line ends are accepted. Returns the normalised specs in order,
 * or every problem found (so the user can fix them all in one go).
 */
export function parsePackageLines(field: PackageField, text: string): PackageLinesResult {
  if (text.length > PACKAGE_LIMITS.maxFieldLength) {
    return {
      ok: false,
      errors: [{ line: 0, text: '', reason: `the list is longer than ${PACKAGE_LIMITS.maxFieldLength} characters. Please add fewer packages at a time.` }],
    };
  }
  const rawLines = text.split('\n');
  if (rawLines.length > PACKAGE_LIMITS.maxRawLines) {
    return {
      ok: false,
      errors: [{ line: 0, text: '', reason: `the list has more than ${PACKAGE_LIMITS.maxRawLines} lines. Please add fewer packages at a time.` }],
    };
  }

  const packages: string[] = [];
  const errors: LineError[] = [];
  const firstLineOf = new Map<string, number>();
  let count = 0;

  rawLines.forEach((raw, index) => {
    const lineNo = index + 1;
    // Accept Windows line ends; a lone CR anywhere else is caught as a control character.
    const withoutCr = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = trimSpaceTab(withoutCr);
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const content = stripInlineComment(trimmed);

    count += 1;
    if (count === PACKAGE_LIMITS.maxPackagesPerField + 1) {
      errors.push({
        line: lineNo,
        text: content,
        reason: `at most ${PACKAGE_LIMITS.maxPackagesPerField} packages can be added at once; please split the list.`,
      });
    }
    if (count > PACKAGE_LIMITS.maxPackagesPerField) return;

    const parsed = parsePackageSpec(field, content);
    if (!parsed.ok) {
      errors.push({ line: lineNo, text: content, reason: parsed.reason });
      return;
    }
    const name = nameForField(field, parsed.spec);
    const earlier = firstLineOf.get(name);
    if (earlier !== undefined) {
      errors.push({ line: lineNo, text: content, reason: `\`${name}\` is already listed on line ${earlier} — keep just one line per package.` });
      return;
    }
    firstLineOf.set(name, lineNo);
    packages.push(parsed.spec);
  });

  return errors.length > 0 ? { ok: false, errors } : { ok: true, packages };
}

const MAX_ERRORS_SHOWN = 3;
const MAX_ECHO = 40;

/** One message for Slack's `response_action: 'errors'`, listing the first few problems of a field. */
export function formatLineErrors(errors: LineError[]): string {
  const shown = errors.slice(0, MAX_ERRORS_SHOWN).map((e) => {
    if (e.line === 0) return capitalise(e.reason);
    const echo = e.text === '' ? '' : ` (\`${displayable(e.text)}\`)`;
    return `Line ${e.line}${echo}: ${e.reason}`;
  });
  const more = errors.length - shown.length;
  if (more > 0) shown.push(`…and ${more} more line${more === 1 ? '' : 's'} to fix.`);
  return shown.join('\n');
}

/** The user's text, shortened and with invisible characters made visible, for echoing back. */
function displayable(text: string): string {
  const visible = text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return visible.length > MAX_ECHO ? `${visible.slice(0, MAX_ECHO - 1)}…` : visible;
}

export type PackageRequestResult = { ok: true; python: string[]; system: string[] } | { ok: false; errors: Partial<Record<PackageField, string>> };

/**
 * Validates both modal fields. On failure `errors` is keyed by field, which is also the block_id
 * of the modal's input blocks, so it can be returned as-is in `response_action: 'errors'`.
 */
export function validatePackageRequest(input: { python?: string | null; system?: string | null }): PackageRequestResult {
  const python = parsePackageLines('python', input.python ?? '');
  const system = parsePackageLines('system', input.system ?? '');
  const errors: Partial<Record<PackageField, string>> = {};
  if (!python.ok) errors.python = formatLineErrors(python.errors);
  if (!system.ok) errors.system = formatLineErrors(system.errors);
  if (python.ok && system.ok) {
    if (python.packages.length === 0 && system.packages.length === 0) {
      return { ok: false, errors: { python: 'Please add at least one package, here or under system packages.' } };
    }
    return { ok: true, python: python.packages, system: system.packages };
  }
  return { ok: false, errors };
}

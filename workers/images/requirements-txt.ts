/**
 * Reading and editing a requirements.txt while keeping the user's lines, comments and line endings.
 */
import { detectEol, splitLines } from './dockerfile-parse.js';
import { packageName } from '../../src/images/package-spec.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { leadingSpaceTab, stripInlineComment, trimSpaceTabEnd } from '../../src/shared/text-scan.js';

/** Largest requirements.txt the editor reads (characters); real ones are a few kilobytes. */
export const MAX_REQUIREMENTS_CHARS = 256_000;

/** Refuses a requirements.txt too large to be a real one, before anything parses it. */
export function assertRequirementsSize(text: string): void {
  if (text.length > MAX_REQUIREMENTS_CHARS) {
    throw new Ds01Error(
      ErrorCode.BadInput,
      `Your project's requirements.txt is larger than ${MAX_REQUIREMENTS_CHARS / 1000} kB, which is more than I can edit safely, so nothing was changed. Please add the packages to it by hand and rebuild.`,
      { detail: `requirements.txt of ${text.length} characters` },
    );
  }
}

export interface RequirementEntry {
  /** The requirement as written (without inline comment). */
  value: string;
  /** PEP 503 name. */
  name: string;
  start: number;
  end: number;
}

/** Requirement lines of the file; options (`-r`, `-e`, `--index-url` ...) and comments are skipped. */
export function requirementEntries(text: string): RequirementEntry[] {
  assertRequirementsSize(text);
  const entries: RequirementEntry[] = [];
  for (const line of splitLines(text)) {
    const lead = leadingSpaceTab(line.text);
    const body = trimSpaceTabEnd(stripInlineComment(line.text.slice(lead)));
    if (body === '' || body.startsWith('#') || body.startsWith('-') || !/^[A-Za-z0-9]/.test(body)) continue;
    // URLs and paths (`./pkg`, `https://...`) are not names.
    if (/^[A-Za-z0-9.+-]*:\/\//.test(body)) continue;
    const start = line.start + lead;
    entries.push({ value: body, name: packageName(body), start, end: start + body.length });
  }
  return entries;
}

/**
 * Applies replacements (by entry) and appends new requirements at the end, one per line, in the
 * file's own line-ending style. A file without a final newline keeps that state.
 */
export function editRequirements(text: string | null, replacements: Array<{ entry: RequirementEntry; spec: string }>, additions: string[]): string | null {
  if (text === null && additions.length === 0) return null;
  let out = text ?? '';
  const sorted = [...replacements].sort((a, b) => b.entry.start - a.entry.start);
  for (const { entry, spec } of sorted) out = out.slice(0, entry.start) + spec + out.slice(entry.end);
  if (additions.length === 0) return out;

  const eol = text === null ? '\n' : detectEol(text);
  if (out === '') return additions.map((a) => a + eol).join('');
  if (out.endsWith('\n')) return out + additions.map((a) => a + eol).join('');
  return out + eol + additions.join(eol);
}

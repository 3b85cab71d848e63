/**
 * Small string helpers for text a user controls, written as single forward or backward scans.
 *
 * They replace regexes such as `/[ \t]+$/` and `/[ \t]+#.*$/`: a JavaScript regex that is not
 * anchored at the start is tried again at every position, so on a long run of spaces it does
 * quadratic work (seconds per 100k characters). Each helper here looks at every character at most
 * a constant number of times.
 */

function isSpaceOrTab(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** Drops spaces and tabs at both ends (not other whitespace). */
export function trimSpaceTab(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isSpaceOrTab(s[start])) start += 1;
  while (end > start && isSpaceOrTab(s[end - 1])) end -= 1;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Drops spaces and tabs at the end. */
export function trimSpaceTabEnd(s: string): string {
  let end = s.length;
  while (end > 0 && isSpaceOrTab(s[end - 1])) end -= 1;
  return end === s.length ? s : s.slice(0, end);
}

/** Number of spaces and tabs at the start. */
export function leadingSpaceTab(s: string): number {
  let k = 0;
  while (k < s.length && isSpaceOrTab(s[k])) k += 1;
  return k;
}

/**
 * Removes a trailing ` # comment` (a `#` after a space or tab, as pip and our modal read it) and
 * the spaces before it. A `#` that starts the text or follows another character is kept.
 */
export function stripInlineComment(s: string): string {
  let from = 0;
  for (;;) {
    const hash = s.indexOf('#', from);
    if (hash === -1) return s;
    if (hash > 0 && isSpaceOrTab(s[hash - 1])) return trimSpaceTabEnd(s.slice(0, hash));
    from = hash + 1;
  }
}

/** Drops every trailing character that is in `chars`. */
export function trimEndChars(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1]!)) end -= 1;
  return end === s.length ? s : s.slice(0, end);
}

/**
 * The first thing done to a question, before any regex or index sees it: a hard size cap. Slack
 * lets anyone send a 40 000-character DM, and everything after this point (normalising, splitting,
 * signatures, spelling) is linear in what this returns, so one hostile message costs the same as a
 * long honest one. Pasted logs keep their head and their tail, where the error line usually is.
 */

/** Characters of a question the FAQ reads at most. */
export const MAX_QUESTION_CHARS = 4000;
const HEAD = 1500;

/** Characters of one whitespace-separated token that the engine looks at (longer ones are noise: hashes, base64). */
export const MAX_TOKEN_CHARS = 48;

export interface CappedQuestion {
  text: string;
  /** true when the original was longer than MAX_QUESTION_CHARS and only its start and end were read. */
  truncated: boolean;
  originalLength: number;
}

export function capQuestion(raw: string): CappedQuestion {
  const originalLength = raw.length;
  if (originalLength <= MAX_QUESTION_CHARS) return { text: raw, truncated: false, originalLength };
  const tail = MAX_QUESTION_CHARS - HEAD - 1;
  return { text: `${raw.slice(0, HEAD)}\n${raw.slice(originalLength - tail)}`, truncated: true, originalLength };
}

/** The sentence a user sees when their message was cut. */
export function truncatedNote(originalLength: number): string {
  return (
    `Your message was very long (${originalLength.toLocaleString('en-GB')} characters), so I only read its first and last ` +
    `${MAX_QUESTION_CHARS.toLocaleString('en-GB')} characters or so. If my answer misses the point, send just the question or the error line.`
  );
}

/**
 * Splits capped text into whitespace tokens without a regex (a plain character loop), dropping tokens
 * longer than MAX_TOKEN_CHARS. Every later regex runs on one of these short tokens.
 */
export function tokensOf(text: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    const space = c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11 || c === 160;
    if (space) {
      if (start >= 0 && i - start <= MAX_TOKEN_CHARS) out.push(text.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  return out;
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leadingSpaceTab, stripInlineComment, trimEndChars, trimSpaceTab, trimSpaceTabEnd } from '../../src/shared/text-scan.js';

// The regexes these scans replace, used here only as the reference on short strings.
const REFERENCE = {
  trim: (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, ''),
  trimEnd: (s: string) => s.replace(/[ \t]+$/, ''),
  comment: (s: string) => s.replace(/[ \t]+#[^]*$/, ''),
  trimDots: (s: string) => s.replace(/[._-]+$/, ''),
};

const short = fc.string({ unit: fc.constantFrom(' ', '\t', '#', '.', '_', '-', 'a', '\n', '\r'), maxLength: 30 });

describe('linear string scans agree with the regexes they replace', () => {
  it('on any short mix of spaces, tabs, hashes, dots and letters', () => {
    fc.assert(
      fc.property(short, (s) => {
        expect(trimSpaceTab(s)).toBe(REFERENCE.trim(s));
        expect(trimSpaceTabEnd(s)).toBe(REFERENCE.trimEnd(s));
        expect(stripInlineComment(s)).toBe(REFERENCE.comment(s));
        expect(trimEndChars(s, '._-')).toBe(REFERENCE.trimDots(s));
        expect(leadingSpaceTab(s)).toBe(/^[ \t]*/.exec(s)![0].length);
      }),
      { numRuns: 1_000 },
    );
  });

  it('keeps a `#` that is not after a space, as pip does', () => {
    expect(stripInlineComment('pkg#egg  # why')).toBe('pkg#egg');
    expect(stripInlineComment('#only')).toBe('#only');
  });
});

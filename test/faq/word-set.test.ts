import { readFileSync } from 'node:fs';
import wordListPath from 'word-list';
import { describe, expect, it } from 'vitest';
import { WordSet } from '../../src/faq/spelling.js';

describe('WordSet (the English word list, kept off the heap)', () => {
  it('holds every word of the list and nothing else', () => {
    const words = readFileSync(wordListPath, 'utf8').split('\n').filter(Boolean);
    const set = new WordSet(words);
    expect(set.size).toBe(new Set(words).size);
    for (const w of words) if (!set.has(w)) throw new Error(`lost "${w}"`);
    for (const w of ['containr', 'dockerfil', 'zzzzq', 'lunchx', 'a b', '', 'é', 'x'.repeat(100_000)]) expect(set.has(w), w).toBe(false);
  });

  it('finds words whatever order they came in', () => {
    const set = new WordSet(['pear', 'apple', 'fig', 'apple', 'banana']);
    expect(set.size).toBe(4);
    for (const w of ['apple', 'banana', 'fig', 'pear']) expect(set.has(w)).toBe(true);
    for (const w of ['app', 'apples', 'figs', 'a', 'zebra', 'aaa']) expect(set.has(w)).toBe(false);
  });
});

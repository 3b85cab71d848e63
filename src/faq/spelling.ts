import { readFileSync } from 'node:fs';
import wordListPath from 'word-list';

/**
 * The spelling corrector's guard: a word that is ordinary English ("lunch", "taken", "touch") is
 * never rewritten into a knowledge-base word, however close it is. The list is the `word-list`
 * package (MIT, ~274 000 lowercase English words), read once per process.
 *
 * It is kept outside the JavaScript heap: the words, sorted, in one Buffer, and where each starts
 * in a Uint32Array. As a Set of strings it was 274 000 heap objects (about 20 MB) that every full
 * garbage collection of the bot had to walk, in the process that acknowledges every Slack request;
 * here it is two objects the collector does not look inside. A lookup is a binary search (about 18
 * comparisons).
 */
const ASCII = /^[\x21-\x7e]+$/;
/** No English word is longer; a longer "word" is not looked up. */
const MAX_WORD = 64;

export class WordSet {
  private readonly bytes: Buffer;
  /** starts[i] is where word i begins in `bytes`; starts[n] is where a word after the last would begin. */
  private readonly starts: Uint32Array;

  constructor(words: Iterable<string>) {
    // ASCII only (the list is a–z): there the default sort's code-unit order is compare()'s byte order.
    const sorted = [...new Set(words)].filter((w) => w.length > 0 && ASCII.test(w)).sort();
    this.bytes = Buffer.from(sorted.join('\n'), 'latin1');
    this.starts = new Uint32Array(sorted.length + 1);
    let at = 0;
    sorted.forEach((w, i) => {
      this.starts[i] = at;
      at += w.length + 1;
    });
    this.starts[sorted.length] = at;
  }

  get size(): number {
    return this.starts.length - 1;
  }

  has(word: string): boolean {
    if (word.length === 0 || word.length > MAX_WORD || !ASCII.test(word)) return false;
    const key = Buffer.from(word, 'latin1');
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.bytes.compare(key, 0, key.length, this.starts[mid]!, this.starts[mid + 1]! - 1);
      if (c === 0) return true;
      // compare() orders `bytes`' slice against the key: negative means the word sorts first.
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

let english: WordSet | undefined;

export function isEnglishWord(word: string): boolean {
  english ??= new WordSet(readFileSync(wordListPath, 'utf8').split('\n'));
  return english.has(word.toLowerCase());
}

import { readFileSync } from 'node:fs';
import wordListPath from 'word-list';

/**
 * The spelling corrector's guard: a word that is ordinary English ("lunch", "taken", "touch") is
 * never rewritten into a knowledge-base word, however close it is. The list is the `word-list`
 * package (MIT, ~274 000 lowercase English words), read once per process.
 */

let english: Set<string> | undefined;

export function isEnglishWord(word: string): boolean {
  english ??= new Set(readFileSync(wordListPath, 'utf8').split('\n'));
  return english.has(word.toLowerCase());
}

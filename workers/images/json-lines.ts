/**
 * Reader for the Engine API's JSON-lines streams (`docker build` output: one JSON object per line).
 *
 * The stream is the output of a build the user controls, so it is read with a hard cap per line: a
 * line longer than `maxLineChars` is dropped (counted in the stats) and reading goes on after its
 * newline. The buffer therefore never holds more than the cap, whatever the build prints, and a
 * build that prints 50 MB without a newline costs a bounded amount of memory. Bytes are decoded
 * with a streaming UTF-8 decoder, so a character split across chunks arrives whole.
 */
import { StringDecoder } from 'node:string_decoder';

/** Longest line kept by default: Docker's build objects are a few kilobytes at most. */
export const MAX_JSON_LINE_CHARS = 1_000_000;

export interface JsonLinesStats {
  /** Objects handed to `onObject`. */
  objects: number;
  /** Lines dropped because they were longer than the cap. */
  dropped: number;
  /** Non-empty lines that were not a JSON object. */
  invalid: number;
  /** The most characters the reader ever buffered for one line (never more than the cap). */
  maxBuffered: number;
}

export interface JsonLinesOptions {
  maxLineChars?: number;
}

export async function readJsonLines(
  stream: NodeJS.ReadableStream | AsyncIterable<Buffer | Uint8Array | string>,
  onObject: (obj: Record<string, unknown>) => Promise<void> | void,
  opts: JsonLinesOptions = {},
): Promise<JsonLinesStats> {
  const cap = opts.maxLineChars ?? MAX_JSON_LINE_CHARS;
  const stats: JsonLinesStats = { objects: 0, dropped: 0, invalid: 0, maxBuffered: 0 };
  const decoder = new StringDecoder('utf8');
  let buf = '';
  // True while skipping the rest of an over-long line, up to its newline.
  let skipping = false;

  const emit = async (line: string): Promise<void> => {
    const trimmed = line.trim();
    if (trimmed === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      stats.invalid += 1; // not JSON: the engine's stream is line-delimited JSON, so ignore it
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      stats.invalid += 1;
      return;
    }
    stats.objects += 1;
    await onObject(parsed as Record<string, unknown>);
  };

  const take = async (text: string): Promise<void> => {
    let from = 0;
    while (from < text.length) {
      const nl = text.indexOf('\n', from);
      const end = nl === -1 ? text.length : nl;
      if (skipping) {
        if (nl === -1) return;
        skipping = false;
      } else if (buf.length + (end - from) > cap) {
        // Too long to be one of Docker's objects: drop all of it, up to its newline.
        buf = '';
        stats.dropped += 1;
        if (nl === -1) {
          skipping = true;
          return;
        }
      } else {
        buf += text.slice(from, end);
        stats.maxBuffered = Math.max(stats.maxBuffered, buf.length);
        if (nl === -1) return;
        const line = buf;
        buf = '';
        await emit(line);
      }
      from = end + 1;
    }
  };

  for await (const chunk of stream as AsyncIterable<Buffer | Uint8Array | string>) {
    await take(typeof chunk === 'string' ? chunk : decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
  }
  await take(decoder.end());
  if (!skipping && buf !== '') await emit(buf);
  return stats;
}

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readJsonLines } from '../../workers/images/json-lines.js';

async function collect(chunks: Iterable<Buffer | string> | AsyncIterable<Buffer | string>, maxLineChars?: number) {
  const objects: Array<Record<string, unknown>> = [];
  const stats = await readJsonLines(Readable.from(chunks, { objectMode: true }), (o) => void objects.push(o), maxLineChars === undefined ? {} : { maxLineChars });
  return { objects, stats };
}

/** 50 MB of output without a newline, in 64 KiB chunks, made lazily so the test holds one chunk at a time. */
async function* fiftyMegabytesWithoutNewline(): AsyncGenerator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  yield Buffer.from('{"stream":"');
  for (let sent = 0; sent < 50 * 1024 * 1024; sent += chunk.length) yield chunk;
  yield Buffer.from('"}\n{"stream":"after the flood\\n"}\n');
}

describe("reading the engine's JSON-lines build stream", () => {
  it('hands over each object in order, across arbitrary chunk boundaries', async () => {
    const text = '{"stream":"Step 1/2 : FROM x"}\r\n{"stream":"\\n"}\r\n{"aux":{"ID":"sha256:abc"}}\r\n';
    const chunks = [...text].map((c) => c); // one character per chunk
    const { objects, stats } = await collect(chunks);
    expect(objects).toEqual([{ stream: 'Step 1/2 : FROM x' }, { stream: '\n' }, { aux: { ID: 'sha256:abc' } }]);
    expect(stats).toMatchObject({ objects: 3, dropped: 0, invalid: 0 });
  });

  it('keeps a multi-byte character that is split between two chunks', async () => {
    const bytes = Buffer.from('{"stream":"héllo ✓ 🐳\\n"}\n', 'utf8');
    const snowman = bytes.indexOf(Buffer.from('✓'));
    const whale = bytes.indexOf(Buffer.from('🐳'));
    const chunks = [bytes.subarray(0, snowman + 1), bytes.subarray(snowman + 1, whale + 2), bytes.subarray(whale + 2)];
    const { objects } = await collect(chunks);
    expect(objects).toEqual([{ stream: 'héllo ✓ 🐳\n' }]);
  });

  it('reads a last object that has no newline, and skips lines that are not JSON objects', async () => {
    const { objects, stats } = await collect(['not json\n', '[1,2]\n', '42\n', '\n', '{"status":"done"}']);
    expect(objects).toEqual([{ status: 'done' }]);
    expect(stats.invalid).toBe(3);
  });

  it('drops a line longer than the cap and goes on reading after its newline', async () => {
    const { objects, stats } = await collect(['{"stream":"', 'y'.repeat(300), '"}\n{"stream":"ok"}\n'], 100);
    expect(objects).toEqual([{ stream: 'ok' }]);
    expect(stats.dropped).toBe(1);
    expect(stats.maxBuffered).toBeLessThanOrEqual(100);
  });

  it('drops a line that is over the cap inside a single chunk', async () => {
    const { objects, stats } = await collect([`{"stream":"${'z'.repeat(500)}"}\n{"a":1}\n`], 100);
    expect(objects).toEqual([{ a: 1 }]);
    expect(stats).toMatchObject({ dropped: 1, maxBuffered: 7 });
  });

  it('buffers at most the cap while a build prints 50 MB without a newline', async () => {
    const cap = 64 * 1024;
    const { objects, stats } = await collect(fiftyMegabytesWithoutNewline(), cap);
    // The flood is dropped as one over-long line; the object after it still arrives.
    expect(objects).toEqual([{ stream: 'after the flood\n' }]);
    expect(stats.dropped).toBe(1);
    expect(stats.maxBuffered).toBeLessThanOrEqual(cap);
  });

  it('an over-long last line without a newline is dropped, not parsed', async () => {
    const { objects, stats } = await collect(['{"a":1}\n', `{"stream":"${'w'.repeat(200)}`], 50);
    expect(objects).toEqual([{ a: 1 }]);
    expect(stats.dropped).toBe(1);
  });

  it('passes an error thrown by the consumer on to the caller', async () => {
    const stream = Readable.from(['{"a":1}\n'], { objectMode: true });
    await expect(
      readJsonLines(stream, () => {
        throw new Error('consumer failed');
      }),
    ).rejects.toThrow('consumer failed');
  });
});

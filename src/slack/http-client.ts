import { STATUS_CODES } from 'node:http';
import { type Dispatcher, request } from 'undici';

/**
 * The fetch the bot's Slack client uses (Web API calls and response_url posts): undici's request()
 * with a small response object in place of the WHATWG one. Node's built-in fetch spends about 200 µs
 * of CPU more per call (Request, Headers, web streams, abort signals; measured in BENCHMARKS.md),
 * and most of what it makes lives across the network wait, so it is promoted and collected by the
 * old generation's GC; a queued launch makes two such calls right after its ack.
 *
 * It gives what @slack/web-api and Bolt's respond() read: status, statusText, ok, url,
 * headers.get/entries, text, json, arrayBuffer. A body it does not send as is (a FormData upload)
 * goes to the built-in fetch.
 */
export const slackFetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const body = init?.body;
  if (input instanceof Request || !(body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array)) {
    return globalThis.fetch(input, init);
  }
  const url = typeof input === 'string' ? input : input.href;
  const res = await request(url, {
    method: (init?.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
    headers: plainHeaders(init?.headers),
    ...(body != null ? { body } : {}),
    ...(init?.signal ? { signal: init.signal } : {}),
  });
  return new SlackHttpResponse(url, res.statusCode, res.headers, Buffer.from(await res.body.arrayBuffer())) as unknown as Response;
}) as typeof fetch;

function plainHeaders(h: HeadersInit | undefined): Record<string, string> {
  if (!h) return {};
  if (h instanceof Headers || Array.isArray(h)) return Object.fromEntries(new Headers(h).entries());
  return h as Record<string, string>;
}

class SlackHttpResponse {
  readonly ok: boolean;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null; entries(): IterableIterator<[string, string]>; has(name: string): boolean };

  constructor(
    readonly url: string,
    readonly status: number,
    raw: Record<string, string | string[] | undefined>,
    private readonly body: Buffer,
  ) {
    this.ok = status >= 200 && status < 300;
    this.statusText = STATUS_CODES[status] ?? '';
    const value = (name: string): string | null => {
      const v = raw[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    };
    this.headers = {
      get: value,
      has: (name) => value(name) !== null,
      entries: function* () {
        for (const [k, v] of Object.entries(raw)) if (v !== undefined) yield [k, Array.isArray(v) ? v.join(', ') : v];
      },
    };
  }

  async text(): Promise<string> {
    return this.body.toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.body.toString('utf8'));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.body.buffer.slice(this.body.byteOffset, this.body.byteOffset + this.body.byteLength) as ArrayBuffer;
  }
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Slack's Web API on loopback: the bot's WebClient points at it through
 * SLACK_API_URL. It answers the methods the bot uses with Slack-shaped replies, and records every
 * call (and every post to a response_url it hands out) so tests and the local console can see
 * exactly what the bot said.
 */
export interface RecordedCall {
  method: string; // e.g. chat.postMessage, or "response_url" for posts to a response URL
  args: Record<string, unknown>;
  at: number;
  /** What the simulator answered (the message's ts, the opened view's id). */
  result?: Record<string, unknown>;
}

type Waiter = { pred: (c: RecordedCall) => boolean; resolve: (c: RecordedCall) => void };

export class SlackSimulator {
  readonly calls: RecordedCall[] = [];
  private server: Server | undefined;
  private waiters: Waiter[] = [];
  private tsCounter = 1000;
  private viewCounter = 1;
  /** Called for every recorded call (the local console prints them). */
  onCall: ((c: RecordedCall) => void) | undefined;
  /** Methods that answer with an error, e.g. { 'views.open': 'expired_trigger_id' }. */
  failures: Record<string, string> = {};

  constructor(readonly botUserId = 'U0DS01BOT') {}

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return this.baseUrl;
  }

  get baseUrl(): string {
    const addr = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${addr.port}`;
  }

  /** Web API base URL to give the bot (SLACK_API_URL). */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  /** A fresh response_url for one slash command or interaction. */
  responseUrl(id = `r${this.tsCounter++}`): string {
    return `${this.baseUrl}/response/${id}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /**
   * Resolves with the first call (already made or future) matching `pred`, or rejects after
   * `timeoutMs`. With `from`, calls made before index `from` of `calls` are not looked at.
   */
  waitFor(pred: (c: RecordedCall) => boolean, timeoutMs = 30_000, what = 'a matching Slack call', from = 0): Promise<RecordedCall> {
    for (let i = from; i < this.calls.length; i++) if (pred(this.calls[i]!)) return Promise.resolve(this.calls[i]!);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        pred,
        resolve: (c) => {
          clearTimeout(timer);
          resolve(c);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; calls so far:\n${this.calls.map((c) => `${c.method} ${JSON.stringify(c.args).slice(0, 300)}`).join('\n')}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The first post to a response_url (its path), without looking through every call. */
  firstResponse(path: string): RecordedCall | undefined {
    return this.responses.get(path);
  }

  private readonly responses = new Map<string, RecordedCall>();

  private record(method: string, args: Record<string, unknown>, result?: Record<string, unknown>): void {
    const call: RecordedCall = { method, args, at: Date.now(), ...(result ? { result } : {}) };
    this.calls.push(call);
    if (method === 'response_url' && typeof args.response_url === 'string' && !this.responses.has(args.response_url)) this.responses.set(args.response_url, call);
    this.onCall?.(call);
    for (const w of [...this.waiters]) {
      if (w.pred(call)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(call);
      }
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const args = parseBody(raw, req.headers['content-type'] ?? '');
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname.startsWith('/response/')) {
      this.record('response_url', { ...args, response_url: url.pathname });
      return send({ ok: true });
    }
    const method = url.pathname.replace(/^\/api\//, '');
    const result = this.failures[method] ? { ok: false, error: this.failures[method] } : this.answer(method, args);
    this.record(method, args, result);
    send(result);
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const ts = () => `${Math.floor(Date.now() / 1000)}.${String(this.tsCounter++).padStart(6, '0')}`;
    const channelOf = (c: unknown) => {
      const s = String(c ?? '');
      return s.startsWith('U') || s.startsWith('W') ? `D${s.slice(1)}` : s;
    };
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://ds01.slack.com/',
          team: 'DS01',
          user: 'ds01',
          team_id: 'T0DS01',
          user_id: this.botUserId,
          bot_id: 'B0DS01BOT',
          is_enterprise_install: false,
        };
      case 'chat.postMessage':
        return { ok: true, channel: channelOf(args.channel), ts: ts(), message: { text: args.text, blocks: args.blocks } };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: ts() };
      case 'conversations.open':
        return { ok: true, channel: { id: channelOf(args.users) } };
      case 'views.open':
      case 'views.push':
        return { ok: true, view: { id: `V${this.viewCounter++}`, ...(typeof args.view === 'object' ? (args.view as object) : {}) } };
      case 'views.update':
      case 'views.publish':
        return { ok: true, view: { id: args.view_id ?? `V${this.viewCounter++}` } };
      default:
        return { ok: true };
    }
  }
}

function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (!raw) return {};
  if (contentType.includes('application/json')) {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return { raw };
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    // The WebClient form-encodes nested fields (blocks, view) as JSON strings.
    out[k] = ((k === 'blocks' || k === 'view' || k === 'attachments' || k === 'metadata') && v.startsWith('[')) || v.startsWith('{') ? safeJson(v) : v;
  }
  return out;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

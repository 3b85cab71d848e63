import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackFetch } from '../../src/slack/http-client.js';

/** The bot's Slack fetch under the real @slack/web-api client, against a loopback server. */
describe("the Slack client's fetch", () => {
  let server: Server;
  let base = '';
  const seen: Array<{ url: string; auth: string | undefined; type: string | undefined; body: string }> = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ url: req.url ?? '', auth: req.headers.authorization, type: req.headers['content-type'], body });
        if (req.url === '/api/chat.postMessage') {
          res
            .writeHead(200, { 'content-type': 'application/json', 'x-oauth-scopes': 'chat:write,im:write' })
            .end(JSON.stringify({ ok: true, channel: 'D1', ts: '1.2', message: { text: 'héllo ✓' } }));
        } else if (req.url === '/api/chat.update') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: 'message_not_found' }));
        } else if (req.url === '/respond') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('expired');
        } else {
          res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = () => new WebClient('xoxb-test-token', { slackApiUrl: `${base}/api/`, fetch: slackFetch, retryConfig: { retries: 0 } });

  it('sends the call as the Web API client builds it and reads the answer, UTF-8 and headers included', async () => {
    const res = await client().chat.postMessage({ channel: 'D1', text: 'hi there' });
    expect(res).toMatchObject({ ok: true, channel: 'D1', ts: '1.2', message: { text: 'héllo ✓' } });
    expect(res.response_metadata?.scopes).toEqual(['chat:write', 'im:write']);
    const call = seen.find((c) => c.url === '/api/chat.postMessage')!;
    expect(call.auth).toBe('Bearer xoxb-test-token');
    expect(new URLSearchParams(call.body).get('text')).toBe('hi there');
  });

  it("passes Slack's errors and HTTP failures through as the client's own errors", async () => {
    await expect(client().chat.update({ channel: 'D1', ts: '1.2', text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_platform_error',
      data: { error: 'message_not_found' },
    });
    await expect(client().apiCall('nope.method')).rejects.toMatchObject({ code: 'slack_webapi_http_error', statusCode: 500 });
  });

  it('answers a response_url post the way fetch does (status, ok, text)', async () => {
    const res = await slackFetch(`${base}/respond`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'done' }) });
    expect([res.status, res.ok, res.statusText, await res.text()]).toEqual([404, false, 'Not Found', 'expired']);
    expect(seen.at(-1)).toMatchObject({ url: '/respond', type: 'application/json', body: '{"text":"done"}' });
  });
});

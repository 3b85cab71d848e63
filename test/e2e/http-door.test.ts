import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postToApp, slashCommandBody } from '../../src/local/slack-signing.js';
import { SlackSimulator } from '../../src/local/slack-simulator.js';
import { freePort, newSigningSecret, startProcess, type Proc } from '../support/processes.js';
import { ALICE, redisUrl, World } from '../support/services.js';

/**
 * The bot's HTTP port as anyone on the network meets it: Slack's endpoint with a bound on request
 * bodies, and the health and metrics endpoints an orchestrator and Prometheus read.
 */
const HALF_GB = 512 * 1024 * 1024;

interface RawExchange {
  response: string;
  /** Body bytes this client managed to hand to the socket before the server closed it. */
  sent: number;
  closedByServer: boolean;
}

/**
 * Sends `head`, then body bytes in 64 kB pieces (waiting for the socket to drain, so `sent` counts
 * what the server's side accepted, give or take the kernel's buffers) until the server answers and
 * closes, or `total` bytes are out. `chunked` frames them as HTTP chunks.
 */
function rawPost(port: number, head: string, total: number, chunked: boolean): Promise<RawExchange> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const piece = Buffer.alloc(64 * 1024, 0x61);
    let response = '';
    let sent = 0;
    let closed = false;
    sock.on('data', (d) => (response += d.toString('latin1')));
    sock.on('error', () => undefined); // EPIPE / ECONNRESET once the server has closed: expected
    sock.on('close', () => {
      closed = true;
      resolve({ response, sent, closedByServer: sent < total });
    });
    const pump = () => {
      while (!closed && sent < total) {
        const frame = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
        sent += piece.length;
        if (!sock.write(frame)) return void sock.once('drain', pump);
      }
      if (!closed && chunked) sock.end('0\r\n\r\n');
    };
    sock.on('connect', () => {
      sock.write(head);
      pump();
    });
  });
}

describe("the bot's HTTP port", () => {
  const world = new World();
  const slack = new SlackSimulator();
  const secret = newSigningSecret();
  let bot: Proc;
  let port = 0;
  let opsPort = 0;

  beforeAll(async () => {
    await slack.start();
    port = await freePort();
    opsPort = await freePort();
    bot = startProcess('bot', 'src/main.ts', {
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: secret,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      REDIS_URL: redisUrl(),
      DS01_CONFIG: world.configFile,
      DS01_METRICS_PORT: String(opsPort),
    });
    await bot.waitForLine(/DS01 bot ready/);
  });
  afterAll(async () => {
    await bot?.stop();
    await slack.stop();
  });

  const helpStillWorks = async () => {
    const body = slashCommandBody({ text: 'help', user_id: 'U0ALICE', response_url: slack.responseUrl() });
    const res = await postToApp(`http://127.0.0.1:${port}/slack/events`, secret, body, 'application/x-www-form-urlencoded');
    expect(res.status).toBe(200);
  };

  it('refuses an unsigned 512 MB POST with 413 from its Content-Length, before reading the body', async () => {
    const head = `POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${HALF_GB}\r\n\r\n`;
    const r = await rawPost(port, head, HALF_GB, false);
    expect(r.response).toMatch(/^HTTP\/1\.1 413 /);
    // The server hung up on us: the rest of the half gigabyte was never read.
    expect(r.closedByServer).toBe(true);
    expect(r.sent).toBeLessThan(HALF_GB / 8);
    await bot.waitForLine(/"how":"content-length".*refused an oversized request body/);
    await helpStillWorks();
  });

  it('refuses a chunked body as soon as it passes 1 MB, and closes the connection', async () => {
    const head = 'POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const r = await rawPost(port, head, HALF_GB, true);
    expect(r.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.closedByServer).toBe(true);
    expect(r.sent).toBeLessThan(HALF_GB / 8);
    await bot.waitForLine(/"how":"streamed".*refused an oversized request body/);
    await helpStillWorks();
  });

  it('still checks signatures on small bodies', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"event_callback"}' });
    expect(res.status).toBe(401);
  });

  it('answers /healthz, /readyz and /metrics on the same port', async () => {
    await helpStillWorks();
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/ds01_bot_ack_duration_seconds_count\{kind="command",subcommand="help"\} [1-9]/);
    expect(text).toMatch(/ds01_bot_request_duration_seconds_count\{kind="command",subcommand="help"\} [1-9]/);
    expect(text).toMatch(/^ds01_bot_outbox_backlog \d+$/m);
    expect(text).toContain('# TYPE ds01_bot_slack_api_errors_total counter');
    expect(text).toContain('# TYPE ds01_bot_queue_depth gauge');
  });

  it('also serves them on DS01_METRICS_PORT when set (the port compose probes in either mode), without Slack there', async () => {
    expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text()).toContain('ds01_bot_outbox_backlog');
    expect((await fetch(`http://127.0.0.1:${opsPort}/slack/events`, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});

describe('readiness without Redis', () => {
  it('/readyz says 503 and why while Redis does not answer; /healthz stays 200; help, a typo and status are still acknowledged', async () => {
    const world = new World([ALICE]);
    const port = await freePort();
    const deadRedis = await freePort(); // nothing listens there
    const secret = newSigningSecret();
    const slack = new SlackSimulator();
    await slack.start();
    const bot = startProcess('bot', 'src/main.ts', {
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: secret,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${deadRedis}`,
      DS01_CONFIG: world.configFile,
    });
    try {
      await bot.waitForLine(/DS01 bot ready/);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toMatch(/not ready: Redis/);
      // The ack never waits on Redis: a redelivery check before it would hold every command here.
      const send = (text: string) =>
        postToApp(
          `http://127.0.0.1:${port}/slack/events`,
          secret,
          slashCommandBody({ text, user_id: ALICE.slack_id, user_name: ALICE.user, response_url: slack.responseUrl() }),
          'application/x-www-form-urlencoded',
        );
      const [help, typo, status] = await Promise.all([send('help'), send('lanch demo'), send('status')]);
      expect(help.status).toBe(200);
      expect(help.body).toContain('What I can do');
      expect(typo.status).toBe(200);
      expect(typo.body).toMatch(/launch/);
      expect(status.status).toBe(200);
      // The outage is said once per connection, not as ioredis's stack trace on every retry.
      expect(bot.output.filter((l) => /Unhandled error event/.test(l))).toEqual([]);
      const said = bot.output.filter((l) => /Redis is not answering/.test(l)).map((l) => (JSON.parse(l) as { redis: string }).redis);
      expect(said.length).toBeGreaterThan(0);
      expect(new Set(said).size).toBe(said.length);
    } finally {
      await bot.stop();
      await slack.stop();
    }
  });
});

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { HostSnapshot } from '../src/contract/hosts.js';
import { postToApp, slashCommandBody } from '../src/local/slack-signing.js';
import { Harness } from '../test/support/harness.js';
import { freePort, startProcess } from '../test/support/processes.js';
import { writeHostSnapshot } from '../test/support/hosts.js';
import { ALICE, redisUrl, World } from '../test/support/services.js';

/**
 * `npx tsx bench/gpu-view.ts` (after `source scripts/services.sh && ensure_services`): the ack of
 * `/ds01 status` and `/ds01 gpus`, answered from the bot's in-memory view, against a bare Bolt app,
 * at concurrency 20 and 100; the view holds 10 hosts × 100 containers (8 GPUs each), published the
 * way workers publish (SET + pub/sub). Writes bench/results-gpu-view.json.
 */
const REQUESTS = 1000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
}

async function load(url: string, secret: string, text: string, concurrency: number): Promise<{ p50: number; p99: number; max: number }> {
  const times: number[] = [];
  let next = 0;
  const one = async () => {
    while (next < REQUESTS) {
      next++;
      const body = slashCommandBody({ text, user_id: ALICE.slack_id, user_name: ALICE.user, response_url: 'http://127.0.0.1:9/unused' });
      const t = performance.now();
      const r = await postToApp(url, secret, body, 'application/x-www-form-urlencoded');
      times.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`status ${r.status} from ${url}: ${r.body.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, one));
  return { p50: pct(times, 50), p99: pct(times, 99), max: pct(times, 100) };
}

function snapshot(i: number): HostSnapshot {
  const hostId = `gpu${String(i).padStart(2, '0')}`;
  const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
  const gpus = Array.from({ length: 8 }, (_, g) => ({
    slot: String(g),
    uuid: `GPU-${hostId}-${g}`,
    name: 'A100',
    gpuEq: 1,
    holder: g < 6 ? { container: `p${g}._.100${g % 5}`, user: users[g % 5]!, project: `p${g}`, since: new Date().toISOString(), managed: true } : null,
  }));
  const containers = Array.from({ length: 100 }, (_, c) => ({
    name: `p${c}._.100${c % 5}`,
    user: users[c % 5]!,
    project: `p${c}`,
    state: c % 3 ? 'running' : 'exited',
    image: `ds01-100${c % 5}/p${c}:latest`,
    gpuUuids: c < 6 ? [`GPU-${hostId}-${c}`] : [],
    createdAt: new Date().toISOString(),
    protected: false,
    managed: true,
    onlyHere: [],
  }));
  return { hostId, updatedAt: new Date().toISOString(), gpuMode: 'nvidia', gpus, containers, images: [] };
}

async function main(): Promise<void> {
  const world = new World();
  const h = await new Harness(world).start([]);
  const port = await freePort();
  const bare = startProcess('bare-bolt', 'bench/bare-bolt.ts', {
    SLACK_SIGNING_SECRET: h.signingSecret,
    PORT: String(port),
    SLACK_API_URL: h.slack.apiUrl,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
  });
  await bare.waitForLine(/bare bolt ready/);
  const r = new Redis(redisUrl());
  try {
    for (let i = 0; i < 10; i++) {
      const snap = snapshot(i);
      await writeHostSnapshot(r, snap, 3600);
    }
    // The view has all ten hosts once `gpus` says so.
    for (;;) {
      const ack = await h.slash(ALICE, 'gpus');
      if (String(ack.ack.text ?? '').split(';').length === 10) break;
    }
    const bareUrl = `http://127.0.0.1:${port}/slack/events`;
    // Warm both up.
    await load(bareUrl, h.signingSecret, 'status', 20);
    await load(h.eventsUrl, h.signingSecret, 'status', 20);
    const out: Record<string, unknown> = {
      when: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      requests: REQUESTS,
      hosts: 10,
      containersPerHost: 100,
    };
    for (const c of [20, 100]) {
      out[`c${c}`] = {
        bare_bolt_ms: await load(bareUrl, h.signingSecret, 'status', c),
        status_ack_ms: await load(h.eventsUrl, h.signingSecret, 'status', c),
        gpus_ack_ms: await load(h.eventsUrl, h.signingSecret, 'gpus', c),
        help_ack_ms: await load(h.eventsUrl, h.signingSecret, 'help', c),
      };
    }
    writeFileSync(new URL('./results-gpu-view.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await r.quit();
    await bare.stop();
    await h.stop();
  }
}

await main();
process.exit(0);

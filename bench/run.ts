import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { benchFaq } from './faq.js';
import { benchHostile } from './hostile.js';
import { Harness, messageText } from '../test/support/harness.js';
import { LifecycleDriver } from '../test/support/lifecycle.js';
import { ADMIN, ALICE, BOB, World } from '../test/support/services.js';

/**
 * `npm run bench`: the numbers behind "the ack is fast" and "launch is quick", measured on the
 * real bot and worker processes over the real Redis and Docker engine (the same harness as the
 * end-to-end tests). Writes bench/results.json; BENCHMARKS.md quotes it.
 */
const ACKS = 200;
const LAUNCHES = 5;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    when: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  };

  results.faq = await benchFaq();
  results.hostile_parsers = await benchHostile();

  const world = new World();
  for (let i = 0; i < LAUNCHES; i++) world.addProject(ADMIN, `bench${i}`);
  world.addProject(BOB, 'cold');
  const h = await new Harness(world).start([{ hostId: 'gpu1', gpus: 'fake:8', env: { DS01_CHECK_INTERVAL_S: '86400' } }]);
  try {
    // 1. Slash-command ack: signed request → HTTP 200 from Bolt (help is answered in the ack).
    const ack: number[] = [];
    for (let i = 0; i < ACKS; i++) {
      const t = performance.now();
      const r = await h.slash(ALICE, 'help');
      if (r.status !== 200) throw new Error(`ack failed: ${r.status}`);
      ack.push(performance.now() - t);
    }
    // 2. `gpus`, answered in the ack from the bot's in-memory view of the hosts (bench/gpu-view.ts
    //    compares it with a bare Bolt app at concurrency 20 and 100).
    const reply: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      const r = await h.slash(ALICE, 'gpus');
      if (!String(r.ack.text ?? '').includes('GPUs')) throw new Error('gpus was not answered in the ack');
      reply.push(performance.now() - t);
    }
    results.slash = { help_ack_ms: { n: ACKS, p50: pct(ack, 50), p95: pct(ack, 95), max: pct(ack, 100) }, gpus_ack_ms: { n: 50, p50: pct(reply, 50), p95: pct(reply, 95) } };

    // 3. Launch with a build (cold image) and launches whose image exists (warm).
    const launchOnce = async (user: typeof ALICE, project: string) => {
      const t = performance.now();
      const from = h.slack.calls.length;
      const r = await h.slash(user, `launch ${project}`);
      await h.responseTo(r.responseUrl);
      const queued = performance.now() - t;
      await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && /is running/.test(messageText(c.args)) && messageText(c.args).includes(`\`${project}\``), 120_000);
      return { queued, running: performance.now() - t };
    };
    const cold = await launchOnce(BOB, 'cold');
    // Warm: build the images first (through a launch) so only allocation and start are timed.
    const warm: number[] = [];
    const queued: number[] = [];
    for (let i = 0; i < LAUNCHES; i++) {
      await launchOnce(ADMIN, `bench${i}`); // builds
    }
    for (let i = 0; i < LAUNCHES; i++) {
      const from = h.slack.calls.length;
      const r = await h.slash(ADMIN, `retire bench${i}`);
      await h.responseTo(r.responseUrl);
      await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && messageText(c.args).includes(`bench${i}\` was retired`), 60_000);
    }
    for (let i = 0; i < 2; i++) {
      const x = await launchOnce(ADMIN, `bench${i}`);
      warm.push(x.running);
      queued.push(x.queued);
    }
    results.launch = {
      cold_build_and_run_ms: Math.round(cold.running),
      warm_run_ms: warm.map(Math.round),
      queued_reply_ms: queued.map(Math.round),
    };

    // 4. One lifecycle pass over the host's containers (CPU sample, GPU util, policy, Redis state).
    const driver = new LifecycleDriver('gpu1');
    await driver.ready();
    const passes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      const s = await driver.checkAt(Date.now());
      passes.push(performance.now() - t);
      if (i === 0) results.lifecycle_containers = s.checked;
    }
    await driver.close();
    const inWorker = h.workers
      .get('gpu1')!
      .output.flatMap((l) => {
        try {
          const o = JSON.parse(l) as { msg?: string; ms?: number };
          return o.msg === 'lifecycle pass' && typeof o.ms === 'number' ? [o.ms] : [];
        } catch {
          return [];
        }
      })
      .slice(-10);
    results.lifecycle_pass_ms = { n: 10, queued_to_done_p50: pct(passes, 50), queued_to_done_max: pct(passes, 100), in_worker_p50: pct(inWorker, 50), in_worker_max: pct(inWorker, 100) };
  } finally {
    await h.stop();
  }
  writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  process.exit(0);
}

void main();

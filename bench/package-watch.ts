import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Harness, messageText } from '../test/support/harness.js';
import { LifecycleDriver } from '../test/support/lifecycle.js';
import { ADMIN, World, docker, dockerHost } from '../test/support/services.js';
import { DockerEngine } from '../workers/docker/engine.js';
import { USER_SITE_CMD } from '../workers/lifecycle/package-watch.js';

/**
 * `npm run bench:packages`: what the package notices add to a lifecycle pass, per running
 * container, on the real bot and worker over the private Redis and Docker engine. Each container
 * has 20 packages in its pip user site. Writes bench/package-watch-results.json.
 */
const SIZES = [1, 4, 8];
const PASSES = 10;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
}

async function exec(container: string, cmd: string[]): Promise<void> {
  const e = await docker().getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({});
  await new Promise((resolve) => {
    stream.on('data', () => undefined);
    stream.on('end', resolve);
  });
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    when: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  };
  const world = new World();
  const max = SIZES[SIZES.length - 1]!;
  for (let i = 0; i < max; i++) world.addProject(ADMIN, `pw${i}`);
  const h = await new Harness(world).start([{ hostId: 'gpu1', gpus: 'fake:8', env: { DS01_CHECK_INTERVAL_S: '86400' } }]);
  const driver = new LifecycleDriver('gpu1');
  await driver.ready();
  const engine = new DockerEngine(dockerHost(), 'gpu1');
  const runAs = { user: ADMIN.user, uid: ADMIN.uid, gid: ADMIN.uid };
  try {
    let running = 0;
    const perSize: Record<string, unknown> = {};
    for (const n of SIZES) {
      for (; running < n; running++) {
        const project = `pw${running}`;
        const from = h.slack.calls.length;
        const r = await h.slash(ADMIN, `launch ${project}`);
        await h.responseTo(r.responseUrl);
        await h.slack.waitFor((c) => /is running/.test(messageText(c.args)) && messageText(c.args).includes(`\`${project}\``), 120_000, 'the launch running', from);
        await exec(`${project}._.${ADMIN.uid}`, ['pip', 'install', ...Array.from({ length: 20 }, (_, k) => `pkg${k}==1.${k}.0`)]);
      }
      const before = h.workers.get('gpu1')!.output.length;
      for (let i = 0; i < PASSES; i++) await driver.checkAt(Date.now());
      const logs = h.workers
        .get('gpu1')!
        .output.slice(before)
        .flatMap((l) => {
          try {
            const o = JSON.parse(l) as { msg?: string; ms?: number; packagesMs?: number };
            return o.msg === 'lifecycle pass' && typeof o.packagesMs === 'number' ? [{ ms: o.ms!, packagesMs: o.packagesMs }] : [];
          } catch {
            return [];
          }
        });
      perSize[`containers_${n}`] = {
        passes: logs.length,
        pass_ms_p50: pct(
          logs.map((l) => l.ms),
          50,
        ),
        packages_part_ms_p50: pct(
          logs.map((l) => l.packagesMs),
          50,
        ),
        packages_part_ms_max: pct(
          logs.map((l) => l.packagesMs),
          100,
        ),
        packages_part_per_container_ms_p50:
          Math.round(
            (pct(
              logs.map((l) => l.packagesMs),
              50,
            ) /
              n) *
              10,
          ) / 10,
      };
    }
    results.lifecycle_with_package_watch = perSize;

    // The two engine calls one container costs, one at a time: the listing, and the CPU sample
    // that restarts the idle window after it.
    const name = `pw0._.${ADMIN.uid}`;
    const execMs: number[] = [];
    const sampleMs: number[] = [];
    let cpuNs = 0;
    for (let i = 0; i < 30; i++) {
      const s0 = await engine.cpuSample(name);
      let t = performance.now();
      await engine.exec(name, USER_SITE_CMD, runAs, 10_000);
      execMs.push(performance.now() - t);
      t = performance.now();
      const s1 = await engine.cpuSample(name);
      sampleMs.push(performance.now() - t);
      cpuNs += s1.containerNs - s0.containerNs;
    }
    results.per_container = {
      pip_list_user_exec_ms: { n: 30, p50: pct(execMs, 50), p95: pct(execMs, 95) },
      cpu_sample_ms: { n: 30, p50: pct(sampleMs, 50), p95: pct(sampleMs, 95) },
      container_cpu_ms_per_listing: Math.round(cpuNs / 30 / 1e4) / 100,
    };
  } finally {
    await driver.close();
    await h.stop();
  }
  writeFileSync(new URL('./package-watch-results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  process.exit(0);
}

void main();

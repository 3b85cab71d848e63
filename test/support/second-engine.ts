import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { dockerOptionsFromHost } from '../../workers/docker/engine.js';
import { REPO_ROOT } from './paths.js';
import { baseImage, docker } from './services.js';

/**
 * A second, private Docker engine for the multi-host tests, made the way scripts/services.sh makes
 * the first: its own data root, exec root and unix socket under the run folder, no bridge, no
 * iptables. Started when absent and left running (like the first) for the next run; the offline
 * base image is copied into it from the first engine.
 */
export async function ensureSecondEngine(): Promise<string> {
  const runDir = process.env.DS01_RUN_DIR ?? path.join(REPO_ROOT, '.run');
  const root = path.join(runDir, 'docker2');
  const sock = `/tmp/ds01-docker2-${createHash('md5').update(runDir).digest('hex').slice(0, 8)}.sock`;
  const host = `unix://${sock}`;
  const d = new Docker(dockerOptionsFromHost(host));
  if (
    !(await d.ping().then(
      () => true,
      () => false,
    ))
  ) {
    mkdirSync(path.join(root, 'data'), { recursive: true });
    mkdirSync(path.join(root, 'exec'), { recursive: true });
    const log = openSync(path.join(root, 'dockerd.log'), 'a');
    const child = spawn(
      'dockerd',
      [
        '--data-root',
        path.join(root, 'data'),
        '--exec-root',
        path.join(root, 'exec'),
        '--host',
        host,
        '--pidfile',
        path.join(root, 'dockerd.pid'),
        '--iptables=false',
        '--ip6tables=false',
        '--bridge=none',
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    child.unref();
    const deadline = Date.now() + 60_000;
    while (
      !(await d.ping().then(
        () => true,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`the second dockerd did not start; see ${root}/dockerd.log`);
      await new Promise((r) => setTimeout(r, 200)); // waiting for a process to come up, not synchronising the test
    }
  }
  if (
    !(await d
      .getImage(baseImage())
      .inspect()
      .then(
        () => true,
        () => false,
      ))
  ) {
    const tar = await docker().getImage(baseImage()).get();
    const stream = await d.loadImage(tar);
    await new Promise<void>((resolve, reject) => d.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())));
  }
  return host;
}

/** A clean slate on an engine: no DS01 containers, no project images. */
export async function resetEngine(host: string): Promise<void> {
  const d = new Docker(dockerOptionsFromHost(host));
  const containers = await d.listContainers({ all: true, filters: { label: ['ds01.managed=true'] } });
  await Promise.all(
    containers.map((c) =>
      d
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  for (const img of await d.listImages()) {
    for (const t of (img.RepoTags ?? []).filter((t) => t.startsWith('ds01-') && !t.startsWith('ds01-test/')))
      await d
        .getImage(t)
        .remove({ force: true })
        .catch(() => undefined);
  }
}

export function engine(host: string): Docker {
  return new Docker(dockerOptionsFromHost(host));
}

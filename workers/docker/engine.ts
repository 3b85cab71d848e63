import { readdir } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';

/**
 * The worker's view of the Docker engine, in DS01's words. Everything Docker-specific (dockerode,
 * stream demuxing, error shapes) stays in this file; the jobs call these methods.
 */

export interface ManagedContainer {
  id: string;
  name: string;
  state: string; // created | running | exited | paused | restarting | dead
  image: string;
  labels: Record<string, string>;
}

export interface ContainerSpec {
  name: string;
  image: string;
  labels: Record<string, string>;
  env: string[];
  binds: string[];
  nanoCpus: number;
  memoryBytes: number;
  memorySwapBytes: number;
  shmSizeBytes: number;
  pidsLimit: number | null;
  /** GPU UUIDs to hand to the NVIDIA runtime; empty on fake-GPU hosts. */
  deviceUuids: string[];
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function dockerOptionsFromHost(dockerHost: string): Docker.DockerOptions {
  const url = dockerHost.trim();
  if (url.startsWith('unix://')) return { socketPath: url.slice('unix://'.length) };
  if (url.startsWith('tcp://') || url.startsWith('http://')) {
    const u = new URL(url.replace(/^tcp:/, 'http:'));
    return { host: u.hostname, port: Number(u.port || 2375), protocol: 'http' };
  }
  if (url.startsWith('/')) return { socketPath: url };
  throw new Ds01Error(ErrorCode.Config, `DOCKER_HOST "${dockerHost}" is not a unix:// or tcp:// address`);
}

/** Connection-level failures mean the engine is down or unreachable: worth a retry. */
function isEngineUnreachable(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT' || code === 'EACCES';
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

export class DockerEngine {
  readonly docker: Docker;

  constructor(
    dockerHost: string,
    private readonly hostId: string,
  ) {
    this.docker = new Docker(dockerOptionsFromHost(dockerHost));
  }

  /** Wraps engine calls so an unreachable engine becomes one clear, retryable error. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof Ds01Error) throw err;
      if (isEngineUnreachable(err)) {
        throw new Ds01Error(
          ErrorCode.EngineDown,
          `The Docker engine on ${this.hostId} is not answering, so nothing was started or changed. The admins have been told in the logs; please try again in a few minutes.`,
          { cause: err, retryable: true, detail: `${what}: ${(err as Error).message}` },
        );
      }
      throw err;
    }
  }

  async ping(): Promise<void> {
    await this.call('ping', () => this.docker.ping());
  }

  async listManaged(): Promise<ManagedContainer[]> {
    const list = await this.call('list', () =>
      this.docker.listContainers({ all: true, filters: { label: ['ds01.managed=true'] } }),
    );
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      state: c.State,
      image: c.Image,
      labels: c.Labels ?? {},
    }));
  }

  async findContainer(name: string): Promise<(ManagedContainer & { startedAt: string | null; finishedAt: string | null }) | null> {
    try {
      const info = await this.call('inspect', () => this.docker.getContainer(name).inspect());
      return {
        id: info.Id,
        name: info.Name.replace(/^\//, ''),
        state: info.State.Status,
        image: info.Config.Image,
        labels: info.Config.Labels ?? {},
        startedAt: info.State.StartedAt && !info.State.StartedAt.startsWith('0001') ? info.State.StartedAt : null,
        finishedAt: info.State.FinishedAt && !info.State.FinishedAt.startsWith('0001') ? info.State.FinishedAt : null,
      };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async imageExists(image: string): Promise<boolean> {
    try {
      await this.call('image inspect', () => this.docker.getImage(image).inspect());
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  async listImages(prefix = 'ds01-'): Promise<Array<{ tag: string; created: number }>> {
    const images = await this.call('images', () => this.docker.listImages());
    return images.flatMap((img) =>
      (img.RepoTags ?? []).filter((t) => t.startsWith(prefix)).map((tag) => ({ tag, created: img.Created })),
    );
  }

  /**
   * Starts a classic build of `contextDir` and returns the raw JSON-lines stream. The caller reads
   * it (see jobs/build.ts): dockerode's followProgress resolves even for failed builds, so failure
   * is found in the stream's errorDetail entries.
   */
  async buildStream(
    contextDir: string,
    opts: { tag: string; buildArgs: Record<string, string>; noCache: boolean; signal?: AbortSignal },
  ): Promise<NodeJS.ReadableStream> {
    const src = await listContextFiles(contextDir);
    return this.call('build', () =>
      this.docker.buildImage(
        { context: contextDir, src },
        {
          t: opts.tag,
          buildargs: opts.buildArgs,
          nocache: opts.noCache,
          rm: true,
          forcerm: true,
          ...(opts.signal ? { abortSignal: opts.signal } : {}),
        },
      ),
    );
  }

  async create(spec: ContainerSpec): Promise<string> {
    const created = await this.call('create', () =>
      this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Labels: spec.labels,
        Env: spec.env,
        // A long-lived shell target for `docker exec`; Init reaps zombies and makes stop prompt.
        Cmd: ['sleep', 'infinity'],
        WorkingDir: '/workspace',
        HostConfig: {
          Binds: spec.binds,
          Init: true,
          Privileged: false,
          NanoCpus: spec.nanoCpus,
          Memory: spec.memoryBytes,
          MemorySwap: spec.memorySwapBytes,
          ShmSize: spec.shmSizeBytes,
          ...(spec.pidsLimit ? { PidsLimit: spec.pidsLimit } : {}),
          SecurityOpt: ['no-new-privileges'],
          ...(spec.deviceUuids.length
            ? { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: spec.deviceUuids, Capabilities: [['gpu']] }] }
            : {}),
        },
      }),
    );
    return created.id;
  }

  async start(name: string): Promise<void> {
    try {
      await this.call('start', () => this.docker.getContainer(name).start());
    } catch (err) {
      if (statusOf(err) === 304) return; // already started: a re-run found it running
      throw err;
    }
  }

  async stop(name: string, graceSeconds: number): Promise<void> {
    try {
      await this.call('stop', () => this.docker.getContainer(name).stop({ t: graceSeconds }));
    } catch (err) {
      if (statusOf(err) === 304 || statusOf(err) === 404) return; // already stopped or gone
      throw err;
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.call('remove', () => this.docker.getContainer(name).remove({ force: true }));
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 409) return; // gone, or removal already in progress
      throw err;
    }
  }

  /** Runs a command (argv, never a shell string) inside a running container. */
  async exec(name: string, cmd: string[], timeoutMs = 15_000): Promise<ExecResult> {
    return this.call('exec', async () => {
      const container = this.docker.getContainer(name);
      const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      const sink = (into: Buffer[]) =>
        ({ write: (chunk: Buffer) => { into.push(Buffer.from(chunk)); return true; } }) as unknown as NodeJS.WritableStream;
      this.docker.modem.demuxStream(stream, sink(out), sink(errOut));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          stream.destroy();
          reject(new Error(`exec ${cmd[0]} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        stream.on('end', () => { clearTimeout(timer); resolve(); });
        stream.on('close', () => { clearTimeout(timer); resolve(); });
        stream.on('error', (e) => { clearTimeout(timer); reject(e); });
      });
      const info = await exec.inspect();
      return { exitCode: info.ExitCode ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') };
    });
  }

  /**
   * A cumulative CPU counter sample (one-shot, no 1-second wait): the lifecycle check turns two
   * successive samples into a percentage over its own interval.
   */
  async cpuSample(name: string): Promise<{ containerNs: number; systemNs: number; onlineCpus: number }> {
    const s = (await this.call('stats', () =>
      this.docker.getContainer(name).stats({ stream: false, 'one-shot': true } as { stream: false }),
    )) as unknown as { cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number } };
    return {
      containerNs: s.cpu_stats.cpu_usage.total_usage,
      systemNs: s.cpu_stats.system_cpu_usage ?? 0,
      onlineCpus: s.cpu_stats.online_cpus ?? 1,
    };
  }

  /**
   * Runs `cmd` in a throwaway container of `image` (no network, no GPU, removed afterwards) and
   * returns its output: how the retire check reads what the image itself has installed.
   */
  async runOnce(image: string, cmd: string[], timeoutMs = 30_000): Promise<ExecResult> {
    return this.call('run', async () => {
      const container = await this.docker.createContainer({
        Image: image,
        Cmd: cmd,
        Entrypoint: [],
        Labels: { 'ds01.probe': 'true' },
        HostConfig: { NetworkMode: 'none', AutoRemove: false, Privileged: false, Memory: 512 * 1024 * 1024 },
      });
      try {
        const stream = await container.attach({ stream: true, stdout: true, stderr: true });
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        const sink = (into: Buffer[]) =>
          ({ write: (chunk: Buffer) => { into.push(Buffer.from(chunk)); return true; } }) as unknown as NodeJS.WritableStream;
        this.docker.modem.demuxStream(stream, sink(out), sink(errOut));
        await container.start();
        const timer = setTimeout(() => void container.kill().catch(() => undefined), timeoutMs);
        const result = (await container.wait()) as { StatusCode: number };
        clearTimeout(timer);
        await new Promise((r) => setImmediate(r));
        return { exitCode: result.StatusCode, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') };
      } finally {
        await container.remove({ force: true }).catch(() => undefined);
      }
    });
  }
}

/** Every file under the build context, relative; dockerode applies .dockerignore to this list. */
async function listContextFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)));
}

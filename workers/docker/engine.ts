import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { pack as tarPack } from 'tar-stream';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import type { EngineGpuFacts } from '../gpu/claims.js';

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
  /** When the engine created it (unix seconds). */
  created: number;
}

/** Who a container's processes run as: the owner's uid and gid, never root. */
export interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

/** Resource limits for a container: the owner's group limits, clamped to the host. */
export interface ResourceSpec {
  nanoCpus: number;
  memoryBytes: number;
  pidsLimit: number | null;
}

export interface ContainerSpec {
  name: string;
  image: string;
  runAs: RunAs;
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
  /** True when the output went past the cap and the rest was dropped. */
  truncated?: boolean;
}

/** Most output kept from a command run in a container (the rest is dropped, never buffered). */
export const MAX_COMMAND_OUTPUT = 4 * 1024 * 1024;

/**
 * The hardening every container the worker starts gets, user containers and throwaway ones alike:
 * the owner's uid:gid (as DS01's mlc-create does with --user), every capability dropped, and
 * no-new-privileges so a setuid binary in the image cannot gain any. A process running as a
 * non-root uid needs no capability for anything a DS01 image does (Python, pip's user site, CUDA:
 * the NVIDIA runtime injects the devices), so none is added back.
 */
export function hardening(runAs: RunAs): { User: string; HostConfig: { CapDrop: string[]; CapAdd: string[]; SecurityOpt: string[]; Privileged: false } } {
  return {
    User: `${runAs.uid}:${runAs.gid}`,
    HostConfig: { CapDrop: ['ALL'], CapAdd: [], SecurityOpt: ['no-new-privileges'], Privileged: false },
  };
}

/** A sink that keeps at most `max` bytes in total across `into` and reports whether it dropped any. */
function cappedSinks(max: number) {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  const sink = (into: Buffer[]) =>
    ({
      write: (chunk: Buffer) => {
        const room = max - kept;
        if (room <= 0) {
          truncated = true;
          return true;
        }
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        if (part.length < chunk.length) truncated = true;
        into.push(Buffer.from(part));
        kept += part.length;
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  return {
    stdout: sink(out),
    stderr: sink(err),
    result: (exitCode: number): ExecResult => ({ exitCode, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), truncated }),
  };
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
    const list = await this.call('list', () => this.docker.listContainers({ all: true, filters: { label: ['ds01.managed=true'] } }));
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      state: c.State,
      image: c.Image,
      labels: c.Labels ?? {},
      created: c.Created,
    }));
  }

  /**
   * Every container on the engine (the worker's own throwaway probes aside), DS01's or not: a
   * devcontainer or a plain `docker run --gpus` can hold a GPU without any ds01.* label.
   */
  async listAll(): Promise<ManagedContainer[]> {
    const list = await this.call('list', () => this.docker.listContainers({ all: true }));
    return list
      .filter((c) => c.Labels?.['ds01.probe'] !== 'true')
      .map((c) => ({
        id: c.Id,
        name: (c.Names[0] ?? '').replace(/^\//, ''),
        state: c.State,
        image: c.Image,
        labels: c.Labels ?? {},
        created: c.Created,
      }));
  }

  /** Device requests, env and runtime never change after create: inspected once per container id. */
  private readonly gpuFactsCache = new Map<string, EngineGpuFacts>();

  /** What the engine gives a container in GPUs (its device requests, NVIDIA_VISIBLE_DEVICES, runtime); null when gone. */
  async gpuFacts(id: string): Promise<EngineGpuFacts | null> {
    const cached = this.gpuFactsCache.get(id);
    if (cached) return cached;
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.call('inspect', () => this.docker.getContainer(id).inspect());
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
    const host = info.HostConfig as Docker.HostConfig & { Runtime?: string };
    const requests = (host.DeviceRequests ?? [])
      .filter((r) => r.Driver === 'nvidia' || (r.Capabilities ?? []).some((set) => set.includes('gpu')))
      .map((r) => ({ deviceIds: r.DeviceIDs ?? [], count: r.Count ?? 0 }));
    const envLine = [...(info.Config.Env ?? [])].reverse().find((e) => e.startsWith('NVIDIA_VISIBLE_DEVICES='));
    const facts: EngineGpuFacts = {
      requests,
      visibleDevices: envLine === undefined ? null : envLine.slice('NVIDIA_VISIBLE_DEVICES='.length),
      runtime: host.Runtime ?? '',
    };
    this.gpuFactsCache.set(id, facts);
    return facts;
  }

  /** Drops cached facts of containers no longer on the engine. */
  forgetGpuFactsExcept(ids: Set<string>): void {
    for (const id of this.gpuFactsCache.keys()) if (!ids.has(id)) this.gpuFactsCache.delete(id);
  }

  async findContainer(name: string): Promise<(Omit<ManagedContainer, 'created'> & { startedAt: string | null; finishedAt: string | null }) | null> {
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
    return images.flatMap((img) => (img.RepoTags ?? []).filter((t) => t.startsWith(prefix)).map((tag) => ({ tag, created: img.Created })));
  }

  /** The tags of an image the engine has, or null when it has none by that reference. */
  async imageTags(ref: string): Promise<string[] | null> {
    try {
      const info = await this.call('image inspect', () => this.docker.getImage(ref).inspect());
      return info.RepoTags ?? [];
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 400) return null;
      throw err;
    }
  }

  /**
   * Starts a classic build from a tar `context` (made as the user: user-fs/build-context.ts) and
   * returns the raw JSON-lines stream. The caller reads it (see jobs/build.ts): dockerode's
   * followProgress resolves even for failed builds, so failure is found in errorDetail entries.
   */
  async buildStream(context: Readable, opts: { tag: string; buildArgs: Record<string, string>; noCache: boolean; signal?: AbortSignal }): Promise<NodeJS.ReadableStream> {
    return this.call('build', () =>
      this.docker.buildImage(context, {
        t: opts.tag,
        buildargs: opts.buildArgs,
        nocache: opts.noCache,
        rm: true,
        forcerm: true,
        ...(opts.signal ? { abortSignal: opts.signal } : {}),
      }),
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
        User: hardening(spec.runAs).User,
        HostConfig: {
          ...hardening(spec.runAs).HostConfig,
          Binds: spec.binds,
          Init: true,
          NanoCpus: spec.nanoCpus,
          Memory: spec.memoryBytes,
          MemorySwap: spec.memorySwapBytes,
          ShmSize: spec.shmSizeBytes,
          ...(spec.pidsLimit ? { PidsLimit: spec.pidsLimit } : {}),
          ...(spec.deviceUuids.length ? { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: spec.deviceUuids, Capabilities: [['gpu']] }] } : {}),
        },
      }),
    );
    return created.id;
  }

  /**
   * Gives the owner a home folder inside a created container (before it starts): `/home/<user>`,
   * theirs and private, in the container's own layer, so `pip install` lands in pip's user site
   * and goes when the container goes (DS01's "the container home is temporary").
   */
  async addHome(name: string, runAs: RunAs): Promise<string> {
    const home = `/home/${runAs.user}`;
    const archive = tarPack();
    const dir = (p: string, mode: number, uid: number, gid: number) => archive.entry({ name: p, type: 'directory', mode, uid, gid, mtime: new Date() });
    dir('home/', 0o755, 0, 0);
    dir(`home/${runAs.user}/`, 0o700, runAs.uid, runAs.gid);
    archive.finalize();
    const chunks: Buffer[] = [];
    for await (const c of archive) chunks.push(c as Buffer);
    await this.call('put home', () => this.docker.getContainer(name).putArchive(Buffer.concat(chunks), { path: '/' }));
    return home;
  }

  /** The engine's own facts about a container: when it started, its main process, its mounts. */
  async facts(
    name: string,
  ): Promise<{ id: string; created: string; startedAt: string | null; pid: number; user: string; mounts: Array<{ source: string; destination: string }> } | null> {
    try {
      const info = await this.call('inspect', () => this.docker.getContainer(name).inspect());
      return {
        id: info.Id,
        created: info.Created,
        startedAt: info.State.StartedAt && !info.State.StartedAt.startsWith('0001') ? info.State.StartedAt : null,
        pid: info.State.Pid,
        user: info.Config.User ?? '',
        mounts: (info.Mounts ?? []).map((m) => ({ source: m.Source, destination: m.Destination })),
      };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
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

  /**
   * Runs a command (argv, never a shell string) inside a running container, as `runAs` (the
   * owner, never root); output past MAX_COMMAND_OUTPUT is dropped.
   */
  async exec(name: string, cmd: string[], runAs: RunAs, timeoutMs = 15_000): Promise<ExecResult> {
    return this.call('exec', async () => {
      const container = this.docker.getContainer(name);
      const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, User: `${runAs.uid}:${runAs.gid}`, Env: [`HOME=/home/${runAs.user}`] });
      const stream = await exec.start({ hijack: true, stdin: false });
      const sinks = cappedSinks(MAX_COMMAND_OUTPUT);
      this.docker.modem.demuxStream(stream, sinks.stdout, sinks.stderr);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          stream.destroy();
          reject(new Error(`exec ${cmd[0]} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        stream.on('end', () => {
          clearTimeout(timer);
          resolve();
        });
        stream.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
        stream.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
      const info = await exec.inspect();
      return sinks.result(info.ExitCode ?? -1);
    });
  }

  /**
   * A cumulative CPU counter sample (one-shot, no 1-second wait): the lifecycle check turns two
   * successive samples into a percentage over its own interval.
   */
  async cpuSample(name: string): Promise<{ containerNs: number; systemNs: number; onlineCpus: number }> {
    const s = (await this.call('stats', () => this.docker.getContainer(name).stats({ stream: false, 'one-shot': true } as { stream: false }))) as unknown as {
      cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number };
    };
    return {
      containerNs: s.cpu_stats.cpu_usage.total_usage,
      systemNs: s.cpu_stats.system_cpu_usage ?? 0,
      onlineCpus: s.cpu_stats.online_cpus ?? 1,
    };
  }

  /**
   * Runs `cmd` in a throwaway container of `image` — as the owner, hardened like every container,
   * with the owner's limits, no network, no GPU, output capped, removed afterwards — and returns
   * its output: how the retire check reads what the image itself has installed.
   */
  async runOnce(image: string, cmd: string[], runAs: RunAs, limits: ResourceSpec, timeoutMs = 30_000): Promise<ExecResult> {
    return this.call('run', async () => {
      const hard = hardening(runAs);
      const container = await this.docker.createContainer({
        Image: image,
        Cmd: cmd,
        Entrypoint: [],
        User: hard.User,
        Env: ['HOME=/tmp'],
        Labels: { 'ds01.probe': 'true' },
        HostConfig: {
          ...hard.HostConfig,
          NetworkMode: 'none',
          AutoRemove: false,
          Memory: limits.memoryBytes,
          NanoCpus: limits.nanoCpus,
          ...(limits.pidsLimit ? { PidsLimit: limits.pidsLimit } : {}),
        },
      });
      try {
        const stream = await container.attach({ stream: true, stdout: true, stderr: true });
        const sinks = cappedSinks(MAX_COMMAND_OUTPUT);
        this.docker.modem.demuxStream(stream, sinks.stdout, sinks.stderr);
        await container.start();
        const timer = setTimeout(() => void container.kill().catch(() => undefined), timeoutMs);
        const result = (await container.wait()) as { StatusCode: number };
        clearTimeout(timer);
        await new Promise((r) => setImmediate(r));
        return sinks.result(result.StatusCode);
      } finally {
        await container.remove({ force: true }).catch(() => undefined);
      }
    });
  }
}

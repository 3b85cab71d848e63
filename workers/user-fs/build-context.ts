import { spawn } from 'node:child_process';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { extract as tarExtract, pack as tarPack } from 'tar-stream';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { trimEndChars } from '../../src/shared/text-scan.js';
import { asUser, spawnAs, type UserIds } from './as-user.js';

function trimStartSlashes(s: string): string {
  let i = 0;
  while (s[i] === '/') i += 1;
  return s.slice(i);
}

/**
 * The build context of a project, made by the user: the file list is taken and the tar written by
 * processes running as the user, so a link or a swapped folder can only ever reach what the user
 * could read anyway. The worker only filters the stream: anything but files, folders and links
 * is dropped, so a FIFO can never reach the engine (where a FIFO named `.dockerignore` would hang it).
 */
const MAX_ENTRIES = 200_000;
const MAX_DOCKERIGNORE = 64 * 1024;
const MAX_DOCKERFILE = 1024 * 1024;

/**
 * The part of `.dockerignore` that is safe to apply here: plain names (no wildcards) exclude that
 * path and everything under it. Patterns with wildcards are left to the engine, which applies the
 * whole file with its own linear-time matcher; with any `!` exception nothing is filtered here.
 * Plain string comparison only: a user's patterns never become a regular expression in the worker.
 */
export function plainExcludes(dockerignore: string): string[] | null {
  const out: string[] = [];
  for (const raw of dockerignore.split('\n').slice(0, 10_000)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('!')) return null;
    if (line.includes('*') || line.includes('?') || line.includes('[') || line.includes('\\')) continue;
    const p = trimEndChars(path.posix.normalize(trimStartSlashes(line)), '/');
    if (p && p !== '.' && !p.startsWith('..')) out.push(p);
  }
  return out;
}

function excluded(p: string, excludes: string[]): boolean {
  if (p === 'Dockerfile' || p === '.dockerignore') return false; // always sent, as the Docker CLI does
  return excludes.some((x) => p === x || p.startsWith(`${x}/`));
}

/**
 * Packs `dir` (a verified project folder) as `ids`; returns the tar stream for the engine. The
 * Dockerfile goes first, and `checkDockerfile` sees exactly the bytes the engine will build from
 * before anything else is sent; when it throws, the stream fails and nothing is built.
 */
export async function packBuildContext(ids: UserIds, dir: string, timeoutMs: number, checkDockerfile: (text: string) => Promise<void>): Promise<Readable> {
  const listed = await asUser(ids, { op: 'list', root: dir, maxEntries: MAX_ENTRIES }, Math.min(timeoutMs, 120_000));
  if (listed.truncated) {
    throw new Ds01Error(
      ErrorCode.BadInput,
      `Your project folder has more than ${MAX_ENTRIES.toLocaleString('en')} files, which is too many to send as a build context. Move data out of the project folder or list it in \`.dockerignore\`.`,
    );
  }
  const entries = listed.list ?? [];
  const type = new Map(entries.map((e) => [e.p, e.t] as const));
  if (type.get('Dockerfile') !== 'f') {
    throw new Ds01Error(
      ErrorCode.NoDockerfile,
      'Your project has no Dockerfile that is a regular file, so there is no image to build. Add one (`project init` writes a starter) and try again.',
    );
  }
  let excludes: string[] = [];
  if (type.get('.dockerignore') === 'o') {
    throw new Ds01Error(
      ErrorCode.BadInput,
      '`.dockerignore` in your project is not a regular file (a pipe or a device?), so I did not build. Replace it with a plain text file and try again.',
    );
  }
  if (type.has('.dockerignore')) {
    const read = await asUser(ids, { op: 'read', root: dir, names: ['.dockerignore'], maxBytes: MAX_DOCKERIGNORE });
    const r = read.read?.['.dockerignore'];
    if (type.get('.dockerignore') !== 'f' || r?.status !== 'ok') {
      throw new Ds01Error(
        ErrorCode.BadInput,
        '`.dockerignore` in your project is not a regular file of at most 64 KB, so I did not build. Replace it with a plain text file and try again.',
      );
    }
    excludes = plainExcludes(Buffer.from(r.content, 'base64').toString('utf8')) ?? [];
  }
  // Pipes, sockets and devices are left out of the context (tar would only record them anyway).
  const names = ['Dockerfile', ...entries.filter((e) => e.t !== 'o' && e.p !== 'Dockerfile' && !excluded(e.p, excludes)).map((e) => e.p)];

  // GNU tar as the user, exactly the listed names (no recursion), NUL-separated so any name is safe.
  const tar = spawn('tar', ['--null', '--no-recursion', '-C', dir, '-cf', '-', '-T', '-'], { ...spawnAs(ids), stdio: ['pipe', 'pipe', 'pipe'] });
  const timer = setTimeout(() => tar.kill('SIGKILL'), timeoutMs);
  tar.on('close', () => clearTimeout(timer));
  tar.stderr!.resume();
  tar.stdin!.on('error', () => undefined);
  tar.stdin!.end(names.map((n) => `${n}\0`).join(''));

  const filter = tarExtract();
  const packed = tarPack();
  const out = new PassThrough();
  let settle!: { ok: () => void; fail: (err: unknown) => void };
  const dockerfileChecked = new Promise<void>((ok, fail) => (settle = { ok, fail }));
  const abort = (err: unknown) => {
    tar.kill('SIGKILL');
    settle.fail(err);
    packed.destroy();
    out.destroy(err as Error);
  };
  // Failures reach the caller through `dockerfileChecked` or the cut-short stream; none of these
  // streams may throw an unhandled 'error' into the worker.
  packed.on('error', () => undefined);
  out.on('error', () => undefined);
  let first = true;
  filter.on('entry', (header, stream, next) => {
    if (first) {
      // The first entry must be the Dockerfile, a regular file: read it whole, check, then pass it on.
      first = false;
      const parts: Buffer[] = [];
      let size = 0;
      stream.on('data', (b: unknown) => {
        if (!Buffer.isBuffer(b)) return;
        size += b.length;
        if (size <= MAX_DOCKERFILE) parts.push(b);
      });
      stream.on('end', () => {
        if (header.name !== 'Dockerfile' || header.type !== 'file' || size > MAX_DOCKERFILE) {
          return abort(new Ds01Error(ErrorCode.BadInput, 'Your Dockerfile changed while the image was being prepared (or is larger than 1 MB), so I did not build. Try again.'));
        }
        const content = Buffer.concat(parts);
        checkDockerfile(content.toString('latin1')).then(() => {
          settle.ok();
          packed.entry(header, content, next);
        }, abort);
      });
      return;
    }
    if (header.type === 'file' || header.type === 'directory' || header.type === 'symlink') {
      stream.pipe(packed.entry(header, next));
    } else {
      stream.resume();
      stream.on('end', next);
    }
  });
  filter.on('finish', () => {
    if (first) abort(new Ds01Error(ErrorCode.NoDockerfile, 'Your project has no Dockerfile I could read, so there is no image to build.'));
    packed.finalize();
  });
  filter.on('error', abort);
  tar.on('error', abort);
  tar.stdout!.pipe(filter);
  packed.pipe(out);
  // Nothing reaches the engine before the Dockerfile it will build from has passed the check.
  await dockerfileChecked;
  return out;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { childMain, type ChildRequest, type ChildResponse } from './child-main.js';

/**
 * Runs a process as a DS01 user (their uid and gid, no supplementary groups, a bare environment),
 * so whatever it touches in their tree is limited by the kernel to what they could touch
 * themselves. The worker process never opens a user's files itself.
 */
export interface UserIds {
  user: string;
  uid: number;
  gid: number;
}

/** Who to run as, from the config's entry (DS01 gives each user a group of their own uid by default). */
export function userIds(entry: { user: string; uid: number; gid?: number | undefined }): UserIds {
  return { user: entry.user, uid: entry.uid, gid: entry.gid ?? entry.uid };
}

/** The child program: a transpiled function sent to `node -e` (esbuild's keepNames needs `__name`). */
const CHILD_SOURCE = `var __name = (f) => f;\n(${childMain.toString()})().catch((e) => { process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.message || e), code: e && e.code })); });`;

const MAX_OUTPUT = 24 * 1024 * 1024;

/** Spawn options that make the child the user; refuses when this worker can't become them. */
export function spawnAs(ids: UserIds): { uid?: number; gid?: number; env: NodeJS.ProcessEnv; cwd: string; detached: true } {
  const me = process.getuid?.() ?? 0;
  // Its own process group: a SIGTERM to the worker's group (a graceful stop) must not cut short the
  // file work of a job the worker is finishing.
  const base = { env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/', LANG: 'C.UTF-8' }, cwd: '/', detached: true as const };
  if (me === ids.uid) return base;
  if (me !== 0) {
    throw new Ds01Error(
      ErrorCode.Config,
      `This worker runs as uid ${me}, not as root, so it cannot act as ${ids.user} (uid ${ids.uid}). Nothing was changed; tell the DS01 admins.`,
    );
  }
  return { ...base, uid: ids.uid, gid: ids.gid };
}

/** Collects a child's stdout up to a cap, killing it past the cap or the deadline. */
function collect(child: ChildProcess, timeoutMs: number): Promise<{ stdout: Buffer; stderr: string; code: number | null; killed: string | null }> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let killed: string | null = null;
    const timer = setTimeout(() => {
      killed = 'timeout';
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout!.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > MAX_OUTPUT) {
        killed = 'output';
        child.kill('SIGKILL');
        return;
      }
      out.push(b);
    });
    child.stderr!.on('data', (b: Buffer) => {
      if (err.length < 4096) err += b.toString('utf8').slice(0, 4096 - err.length);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out), stderr: err, code, killed });
    });
  });
}

/** Runs one file operation in the user's project as the user. */
export async function asUser(ids: UserIds, req: ChildRequest, timeoutMs = 20_000): Promise<Extract<ChildResponse, { ok: true }>> {
  const child = spawn(process.execPath, ['-e', CHILD_SOURCE], { ...spawnAs(ids), stdio: ['pipe', 'pipe', 'pipe'] });
  const done = collect(child, timeoutMs);
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(JSON.stringify(req));
  const r = await done;
  if (r.killed) {
    throw new Ds01Error(
      ErrorCode.BadInput,
      r.killed === 'timeout'
        ? `Reading your project folder took longer than ${Math.round(timeoutMs / 1000)} s, so I stopped. Check it for unusual files (pipes, huge folders) and try again.`
        : 'Your project folder gave back more than I can read at once, so I stopped. Check it for unusually large files.',
    );
  }
  let res: ChildResponse;
  try {
    res = JSON.parse(r.stdout.toString('utf8')) as ChildResponse;
  } catch {
    throw new Ds01Error(ErrorCode.Internal, 'Something went wrong while reading your project folder. Nothing was changed.', {
      detail: `user-fs child exited ${r.code}: ${r.stderr.slice(0, 500)}`,
    });
  }
  if (!res.ok) {
    if (res.code === 'ENOENT')
      throw new Ds01Error(ErrorCode.NotFound, 'A folder of your project is missing, so nothing was changed.', { detail: `user-fs ${req.op}: ${res.error.slice(0, 300)}` });
    const denied = res.code === 'EACCES' || res.code === 'EPERM';
    throw new Ds01Error(
      denied ? ErrorCode.BadInput : ErrorCode.Internal,
      denied
        ? `I could not read or write a file in your project as you (permission denied), so nothing was changed. Check the files' owner and permissions.`
        : 'Something went wrong in your project folder. Nothing was changed.',
      { detail: `user-fs ${req.op}: ${res.error.slice(0, 300)}` },
    );
  }
  return res;
}

/**
 * The program a worker runs *as the user* (uid/gid set by the kernel at spawn) to read and write
 * in that user's project. It is one self-contained function: as-user.ts sends its source to
 * `node -e`, so the child needs no file of ours (the user may not be able to read the install).
 *
 * Rules it keeps, on top of the kernel's (it can only do what the user could):
 * - names stay inside the project root; a link is followed only when it ends inside the root;
 * - files are opened O_NOFOLLOW | O_NONBLOCK and must be regular (a FIFO never blocks it);
 * - sizes and counts are capped;
 * - writes go to a new O_EXCL temp file, then rename over the target.
 *
 * Keep it free of imports and of references to anything outside the function body (modules come
 * from process.getBuiltinModule).
 */
export type ChildRequest =
  | { op: 'read'; root: string; names: string[]; maxBytes: number }
  | { op: 'write'; root: string; files: Array<{ target: string; content: string; mode: number }> }
  | { op: 'remove'; root: string; target: string }
  | { op: 'list'; root: string; maxEntries: number };

export type ReadResult = { status: 'ok'; content: string; real: string; mode: number } | { status: 'missing' | 'outside' | 'dangling' | 'not_regular' | 'too_large' };

export type ChildResponse =
  | { ok: true; read?: Record<string, ReadResult>; list?: Array<{ p: string; t: 'f' | 'd' | 'l' | 'o' }>; truncated?: boolean }
  | { ok: false; error: string; code?: string };

export async function childMain(): Promise<void> {
  // getBuiltinModule, not import(): bundlers and test runners rewrite import() in the function's source.
  const fs = process.getBuiltinModule('node:fs');
  const fsp = fs.promises;
  const pathMod = process.getBuiltinModule('node:path');
  const crypto = process.getBuiltinModule('node:crypto');
  const out = (r: unknown) => process.stdout.write(JSON.stringify(r));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > 16 * 1024 * 1024) return void out({ ok: false, error: 'request too large' });
    chunks.push(c as Buffer);
  }
  const req = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChildRequest;
  const root = await fsp.realpath(req.root);
  const inside = (p: string) => {
    const rel = pathMod.relative(root, p);
    return rel !== '' && !rel.startsWith('..') && !pathMod.isAbsolute(rel);
  };
  const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_WRONLY, O_CREAT, O_EXCL } = fs.constants;

  async function readOne(name: string, maxBytes: number): Promise<ReadResult> {
    const p = pathMod.join(root, name);
    if (!inside(p)) return { status: 'outside' };
    let st;
    try {
      st = await fsp.lstat(p);
    } catch {
      return { status: 'missing' };
    }
    let real = p;
    if (st.isSymbolicLink()) {
      try {
        real = await fsp.realpath(p);
      } catch {
        return { status: 'dangling' };
      }
      if (!inside(real)) return { status: 'outside' };
    }
    let fh;
    try {
      fh = await fsp.open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch {
      return { status: 'not_regular' };
    }
    try {
      const fst = await fh.stat();
      if (!fst.isFile()) return { status: 'not_regular' };
      if (fst.size > maxBytes) return { status: 'too_large' };
      const buf = Buffer.alloc(Math.min(fst.size, maxBytes) + 1);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      if (bytesRead > maxBytes) return { status: 'too_large' };
      return { status: 'ok', content: buf.subarray(0, bytesRead).toString('base64'), real, mode: fst.mode & 0o777 };
    } finally {
      await fh.close();
    }
  }

  async function writeOne(target: string, content: Buffer, mode: number): Promise<void> {
    const dir = await fsp.realpath(pathMod.dirname(target));
    const final = pathMod.join(dir, pathMod.basename(target));
    if (!inside(final)) throw new Error(`refusing to write outside the project: ${target}`);
    const existing = await fsp.lstat(final).catch(() => null);
    if (existing && !existing.isFile() && !existing.isSymbolicLink()) throw new Error(`not a regular file: ${target}`);
    const tmp = pathMod.join(dir, `.${pathMod.basename(final)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
    const fh = await fsp.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      try {
        await fh.writeFile(content);
        await fh.chmod(mode & 0o777);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, final);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  }

  try {
    if (req.op === 'read') {
      const read: Record<string, ReadResult> = {};
      for (const n of req.names) read[n] = await readOne(n, req.maxBytes);
      return void out({ ok: true, read });
    }
    if (req.op === 'write') {
      for (const f of req.files) await writeOne(f.target, Buffer.from(f.content, 'base64'), f.mode);
      return void out({ ok: true });
    }
    if (req.op === 'remove') {
      if (!inside(req.target)) throw new Error('refusing to remove outside the project');
      const st = await fsp.lstat(req.target).catch(() => null);
      if (st?.isFile()) await fsp.rm(req.target);
      return void out({ ok: true });
    }
    if (req.op === 'list') {
      // Depth-first without following links; FIFOs, sockets and devices are listed as 'o' (other).
      const list: Array<{ p: string; t: 'f' | 'd' | 'l' | 'o' }> = [];
      const stack = [''];
      while (stack.length) {
        const rel = stack.pop()!;
        const entries = await fsp.readdir(pathMod.join(root, rel), { withFileTypes: true }).catch(() => []);
        for (const e of entries) {
          const p = rel ? `${rel}/${e.name}` : e.name;
          const t = e.isFile() ? 'f' : e.isDirectory() ? 'd' : e.isSymbolicLink() ? 'l' : 'o';
          if (list.length >= req.maxEntries) return void out({ ok: true, list, truncated: true });
          list.push({ p, t });
          if (t === 'd') stack.push(p);
        }
      }
      return void out({ ok: true, list });
    }
    out({ ok: false, error: 'unknown op' });
  } catch (err) {
    out({ ok: false, error: (err as Error).message, code: (err as { code?: string }).code });
  }
}

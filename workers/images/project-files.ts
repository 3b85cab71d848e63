/**
 * Applies a planned package edit to a project folder on disk: reads the Dockerfile (and the
 * requirements.txt it uses), keeps `.bak` copies of what it changes, and writes atomically.
 *
 * Safety notes:
 * - The user owns the project folder, so a Dockerfile or requirements.txt may be a symlink. Links
 *   that resolve outside the project folder are refused, and every write goes through a new temp
 *   file + rename, which replaces a directory entry instead of writing through whatever it points
 *   to. (A user who swaps folders around *during* the edit could still race the checks; the worker
 *   should do this I/O with the user's own uid, which makes that harmless.)
 * - Files are read and written as latin1, which maps each byte to one character and back, so
 *   bytes the editor does not touch (UTF-8 comments, odd encodings) come back unchanged.
 * - Edits of one project folder are serialised in this process; a cross-process lock can be
 *   passed in as `lock`.
 */
import { randomBytes } from 'node:crypto';
import { lstat, open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { planImageEdit, usesRequirementsTxt, type ImageEditPlan } from './dockerfile-edit.js';

export type Lock = <T>(fn: () => Promise<T>) => Promise<T>;

export interface ApplyImageEditOptions {
  /** Cross-process lock around the read-modify-write (e.g. a Redis lock keyed by project). */
  lock?: Lock;
}

export interface ApplyImageEditResult extends Omit<ImageEditPlan, 'dockerfile' | 'requirementsTxt'> {
  /** Files rewritten (absolute paths); empty when nothing changed. */
  written: string[];
  /** Backup copies written before the change. */
  backups: string[];
}

/** Refuse absurdly large files rather than load them into the worker. */
const MAX_FILE_BYTES = 1024 * 1024;

const chains = new Map<string, Promise<void>>();

/** Runs `fn` after every earlier call for the same key has settled (one at a time per key). */
function serialise<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = chains.get(key) ?? Promise.resolve();
  const run = previous.then(fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  chains.set(key, tail);
  void tail.then(() => {
    if (chains.get(key) === tail) chains.delete(key);
  });
  return run;
}

interface ProjectFile {
  /** Where the user sees it (`<project>/Dockerfile`). */
  path: string;
  /** Where its bytes live (the link target when it is a symlink inside the project). */
  real: string;
  mode: number;
  uid: number;
  gid: number;
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** Finds `name` in the project folder; null when absent; refuses links out of the folder. */
async function inspectProjectFile(root: string, name: string): Promise<ProjectFile | null> {
  const p = path.join(root, name);
  let st;
  try {
    st = await lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let real = p;
  if (st.isSymbolicLink()) {
    try {
      real = await realpath(p);
    } catch {
      throw new Ds01Error(ErrorCode.BadInput, `\`${name}\` in your project is a link to a file that does not exist. Please replace it with the real file.`);
    }
    if (!isInside(root, real)) {
      throw new Ds01Error(
        ErrorCode.BadInput,
        `\`${name}\` in your project is a link to a file outside the project folder, so I will not edit it. Please replace the link with a copy of the file.`,
        { detail: `${p} -> ${real}` },
      );
    }
    st = await stat(real);
  }
  if (!st.isFile()) {
    throw new Ds01Error(ErrorCode.BadInput, `\`${name}\` in your project is not a regular file, so I cannot edit it.`);
  }
  if (st.size > MAX_FILE_BYTES) {
    throw new Ds01Error(ErrorCode.BadInput, `\`${name}\` in your project is larger than 1 MB, so I will not edit it automatically.`);
  }
  return { path: p, real, mode: st.mode & 0o777, uid: st.uid, gid: st.gid };
}

/** Writes `content` to a fresh temp file next to `target`, then renames it over `target`. */
export async function writeAtomically(target: string, content: string | Buffer, like: { mode: number; uid: number; gid: number }): Promise<void> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  // 'wx' = O_CREAT|O_EXCL: never opens an existing file or follows a planted link.
  const fh = await open(tmp, 'wx', 0o600);
  try {
    try {
      await (typeof content === 'string' ? fh.writeFile(content, 'latin1') : fh.writeFile(content));
      await fh.chmod(like.mode);
      // A root-run worker must not leave root-owned files in the user's project.
      if (process.getuid?.() === 0) await fh.chown(like.uid, like.gid);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Adds validated packages to the project's image definition. Returns what was added, replaced or
 * already there; writes nothing (and no backups) when the files already contain everything.
 */
export async function applyImageEdit(
  projectDir: string,
  packages: { python: string[]; system: string[] },
  options: ApplyImageEditOptions = {},
): Promise<ApplyImageEditResult> {
  let root: string;
  try {
    root = await realpath(projectDir);
  } catch {
    throw new Ds01Error(ErrorCode.UnknownProject, `I could not find the project folder ${path.basename(projectDir)}.`);
  }
  const lock: Lock = options.lock ?? ((fn) => fn());
  return serialise(root, () => lock(() => editProject(root, packages)));
}

async function editProject(root: string, packages: { python: string[]; system: string[] }): Promise<ApplyImageEditResult> {
  const dockerfile = await inspectProjectFile(root, 'Dockerfile');
  if (!dockerfile) {
    throw new Ds01Error(
      ErrorCode.NoDockerfile,
      `There is no Dockerfile in your project folder ${path.basename(root)}, so there is no image to add packages to. Create one with \`image-create\` first.`,
    );
  }
  const dockerText = await readFile(dockerfile.real, 'latin1');
  const requirements = usesRequirementsTxt(dockerText) ? await inspectProjectFile(root, 'requirements.txt') : null;
  const requirementsText = requirements ? await readFile(requirements.real, 'latin1') : null;

  const plan = planImageEdit({ dockerfile: dockerText, requirementsTxt: requirementsText, python: packages.python, system: packages.system });
  const { dockerfile: newDocker, requirementsTxt: newRequirements, ...summary } = plan;
  const result: ApplyImageEditResult = { ...summary, written: [], backups: [] };
  if (!plan.changed) return result;

  const dockerChanged = newDocker !== dockerText;
  const requirementsChanged = newRequirements !== null && newRequirements !== requirementsText;

  // Backups first: if anything below fails, the user still has the previous version.
  if (dockerChanged) {
    const bak = `${dockerfile.path}.bak`;
    await writeAtomically(bak, dockerText, dockerfile);
    result.backups.push(bak);
  }
  if (requirementsChanged && requirements && requirementsText !== null) {
    const bak = `${requirements.path}.bak`;
    await writeAtomically(bak, requirementsText, requirements);
    result.backups.push(bak);
  }
  if (requirementsChanged) {
    const target = requirements?.real ?? path.join(root, 'requirements.txt');
    await writeAtomically(target, newRequirements, requirements ?? { mode: 0o644, uid: dockerfile.uid, gid: dockerfile.gid });
    result.written.push(target);
  }
  if (dockerChanged) {
    await writeAtomically(dockerfile.real, newDocker, dockerfile);
    result.written.push(dockerfile.real);
  }
  return result;
}

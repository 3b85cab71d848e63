/**
 * Applies a planned package edit to a project folder: reads the Dockerfile (and the
 * requirements.txt it uses), keeps `.bak` copies of what it changes, and writes atomically.
 *
 * Safety notes:
 * - Every read and write happens in a process running as the project's owner (as-user.ts): the
 *   worker never opens a file in a user's tree itself, so a link or a folder swapped mid-edit can
 *   only reach what that user could reach anyway.
 * - Links are followed only when they stay inside the project folder; non-regular files (FIFOs,
 *   devices) are refused without blocking; files over 1 MB are refused.
 * - Writes go through a new temp file + rename, which replaces a directory entry instead of
 *   writing through whatever it points to.
 * - Files are read and written as latin1, which maps each byte to one character and back, so
 *   bytes the editor does not touch (UTF-8 comments, odd encodings) come back unchanged.
 * - Edits of one project folder are serialised in this process; a cross-process lock can be
 *   passed in as `lock`.
 */
import path from 'node:path';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { asUser, type UserIds } from '../user-fs/as-user.js';
import type { ReadResult } from '../user-fs/child-main.js';
import { planImageEdit, usesRequirementsTxt, type ImageEditPlan } from './dockerfile-edit.js';

export type Lock = <T>(fn: () => Promise<T>) => Promise<T>;

export interface ApplyImageEditOptions {
  /** Cross-process lock around the read-modify-write (e.g. a Redis lock keyed by project). */
  lock?: Lock;
}

/** A file as it was before an edit and as the edit left it (for taking the edit back). */
export interface EditedFile {
  /** Where the bytes live (the link target when it is a link inside the project). */
  real: string;
  before: Buffer | null;
  after: Buffer;
  mode: number;
}

export interface ApplyImageEditResult extends Omit<ImageEditPlan, 'dockerfile' | 'requirementsTxt'> {
  /** Files rewritten (absolute paths); empty when nothing changed. */
  written: string[];
  /** Backup copies written before the change. */
  backups: string[];
  /** What each rewritten file held before and after (see edit-undo.ts). */
  edits: EditedFile[];
}

/** Refuse absurdly large files rather than load them into the worker. */
export const MAX_FILE_BYTES = 1024 * 1024;

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

export interface ProjectFile {
  /** Where the user sees it (`<project>/Dockerfile`). */
  path: string;
  /** Where its bytes live (the link target when it is a symlink inside the project). */
  real: string;
  mode: number;
  content: Buffer;
}

/** Turns a child's read result into the file, null when absent, or a sentence for the user. */
export function projectFileOf(root: string, name: string, r: ReadResult | undefined): ProjectFile | null {
  if (!r || r.status === 'missing') return null;
  switch (r.status) {
    case 'ok':
      return { path: path.join(root, name), real: r.real, mode: r.mode, content: Buffer.from(r.content, 'base64') };
    case 'dangling':
      throw new Ds01Error(ErrorCode.BadInput, `\`${name}\` in your project is a link to a file that does not exist. Please replace it with the real file.`);
    case 'outside':
      throw new Ds01Error(
        ErrorCode.BadInput,
        `\`${name}\` in your project is a link to a file outside the project folder, so I will not edit it. Please replace the link with a copy of the file.`,
      );
    case 'not_regular':
      throw new Ds01Error(ErrorCode.BadInput, `\`${name}\` in your project is not a regular file, so I cannot edit it.`);
    case 'too_large':
      throw new Ds01Error(ErrorCode.BadInput, `\`${name}\` in your project is larger than 1 MB, so I will not edit it automatically.`);
  }
}

/** Reads `names` from the project as its owner. */
export async function readProjectFiles(ids: UserIds, root: string, names: string[]): Promise<Map<string, ProjectFile | null>> {
  const res = await asUser(ids, { op: 'read', root, names, maxBytes: MAX_FILE_BYTES });
  return new Map(names.map((n) => [n, projectFileOf(root, n, res.read?.[n])] as const));
}

/** Writes files in the project as its owner: each one atomically (temp file + rename). */
export async function writeProjectFiles(ids: UserIds, root: string, files: Array<{ target: string; content: Buffer; mode: number }>): Promise<void> {
  if (files.length === 0) return;
  await asUser(ids, { op: 'write', root, files: files.map((f) => ({ target: f.target, content: f.content.toString('base64'), mode: f.mode })) });
}

/**
 * Adds validated packages to the project's image definition. Returns what was added, replaced or
 * already there; writes nothing (and no backups) when the files already contain everything.
 * `projectDir` must be a verified project folder (see user-fs/project-path.ts).
 */
export async function applyImageEdit(
  ids: UserIds,
  projectDir: string,
  packages: { python: string[]; system: string[] },
  options: ApplyImageEditOptions = {},
): Promise<ApplyImageEditResult> {
  const lock: Lock = options.lock ?? ((fn) => fn());
  return serialise(projectDir, () => lock(() => editProject(ids, projectDir, packages)));
}

async function editProject(ids: UserIds, root: string, packages: { python: string[]; system: string[] }): Promise<ApplyImageEditResult> {
  let files;
  try {
    files = await readProjectFiles(ids, root, ['Dockerfile', 'requirements.txt']);
  } catch (err) {
    if (err instanceof Ds01Error && err.code === ErrorCode.NotFound) {
      throw new Ds01Error(ErrorCode.UnknownProject, `I could not find the project folder ${path.basename(root)}.`);
    }
    throw err;
  }
  const dockerfile = files.get('Dockerfile') ?? null;
  if (!dockerfile) {
    throw new Ds01Error(
      ErrorCode.NoDockerfile,
      `There is no Dockerfile in your project folder ${path.basename(root)}, so there is no image to add packages to. Create one with \`image-create\` first.`,
    );
  }
  const dockerText = dockerfile.content.toString('latin1');
  const requirements = usesRequirementsTxt(dockerText) ? (files.get('requirements.txt') ?? null) : null;
  const requirementsText = requirements ? requirements.content.toString('latin1') : null;

  const plan = planImageEdit({ dockerfile: dockerText, requirementsTxt: requirementsText, python: packages.python, system: packages.system });
  const { dockerfile: newDocker, requirementsTxt: newRequirements, ...summary } = plan;
  const result: ApplyImageEditResult = { ...summary, written: [], backups: [], edits: [] };
  if (!plan.changed) return result;

  const dockerChanged = newDocker !== dockerText;
  const requirementsChanged = newRequirements !== null && newRequirements !== requirementsText;

  // Backups first (their own write): if anything after fails, the user still has the previous version.
  const backups: Array<{ target: string; content: Buffer; mode: number }> = [];
  if (dockerChanged) backups.push({ target: `${dockerfile.path}.bak`, content: dockerfile.content, mode: dockerfile.mode });
  if (requirementsChanged && requirements) backups.push({ target: `${requirements.path}.bak`, content: requirements.content, mode: requirements.mode });
  await writeProjectFiles(ids, root, backups);
  result.backups.push(...backups.map((b) => b.target));

  const writes: Array<{ target: string; content: Buffer; mode: number }> = [];
  if (requirementsChanged) {
    const target = requirements?.real ?? path.join(root, 'requirements.txt');
    const content = Buffer.from(newRequirements, 'latin1');
    writes.push({ target, content, mode: requirements?.mode ?? 0o644 });
    result.edits.push({ real: target, before: requirements?.content ?? null, after: content, mode: requirements?.mode ?? 0o644 });
  }
  if (dockerChanged) {
    const content = Buffer.from(newDocker, 'latin1');
    writes.push({ target: dockerfile.real, content, mode: dockerfile.mode });
    result.edits.push({ real: dockerfile.real, before: dockerfile.content, after: content, mode: dockerfile.mode });
  }
  await writeProjectFiles(ids, root, writes);
  result.written.push(...writes.map((w) => w.target));
  return result;
}

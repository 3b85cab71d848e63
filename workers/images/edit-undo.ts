/**
 * Taking an image edit back when the build that follows it fails, so a package that does not
 * install is not left in the user's Dockerfile (where it would break every later build).
 *
 * Only files the edit wrote are touched, and only while they still hold exactly what the edit
 * wrote: if the user changed a file during the build, their version is kept.
 */
import { readFile, realpath, rm, stat } from 'node:fs/promises';
import { writeAtomically } from './project-files.js';
import path from 'node:path';

/** Content of each file an edit may write (keyed by real path); null when the file did not exist. */
export type EditableFiles = Map<string, Buffer | null>;

export interface EditUndo {
  /** Names of the files the edit changed (`Dockerfile`, `requirements.txt`). */
  files: string[];
  /** Puts the files back; true when every one was restored. */
  run: () => Promise<boolean>;
}

const EDITABLE = ['Dockerfile', 'requirements.txt'];

async function contentOf(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Reads the files an image edit of `projectDir` may write, before the edit. */
export async function readEditableFiles(projectDir: string): Promise<EditableFiles> {
  const root = await realpath(projectDir);
  const out: EditableFiles = new Map();
  for (const name of EDITABLE) {
    const p = path.join(root, name);
    const real = await realpath(p).catch(() => p);
    out.set(real, await contentOf(real));
  }
  return out;
}

/** What an undo of the edit that wrote `written` (real paths) would do, given the content before. */
export async function prepareUndo(written: string[], before: EditableFiles): Promise<EditUndo | null> {
  const steps: Array<{ file: string; before: Buffer | null; after: Buffer }> = [];
  for (const file of written) {
    if (!before.has(file)) continue; // not a file we read first: leave it alone
    const after = await contentOf(file);
    if (after === null) continue;
    steps.push({ file, before: before.get(file) ?? null, after });
  }
  if (steps.length === 0) return null;
  return {
    files: steps.map((s) => path.basename(s.file)),
    run: async () => {
      let all = true;
      for (const s of steps) {
        const now = await contentOf(s.file);
        if (now === null || !now.equals(s.after)) {
          all = false;
          continue;
        }
        if (s.before === null) await rm(s.file, { force: true });
        else await restore(s.file, s.before);
      }
      return all;
    },
  };
}

/** Puts `content` back with the file's current mode and owner, atomically, as the editor writes. */
async function restore(target: string, content: Buffer): Promise<void> {
  const st = await stat(target);
  await writeAtomically(target, content, { mode: st.mode & 0o777, uid: st.uid, gid: st.gid });
}

/** The sentence that tells the user what became of their files after a failed build. */
export function editNote(files: string[], restored: boolean): string {
  const names = files.map((f) => `\`${f}\``).join(' and ');
  return restored
    ? ` The lines I added to your ${names} were taken out again, so ${files.length > 1 ? 'they are' : 'it is'} as before: fix the package and try again.`
    : ` Your ${names} changed while the image was building, so I left ${files.length > 1 ? 'them' : 'it'} as ${files.length > 1 ? 'they are' : 'it is'}; the lines I added may still be there.`;
}


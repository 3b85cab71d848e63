/**
 * Taking an image edit back when the build that follows it fails, so a package that does not
 * install is not left in the user's Dockerfile (where it would break every later build).
 *
 * Only files the edit wrote are touched, and only while they still hold exactly what the edit
 * wrote: if the user changed a file during the build, their version is kept. Reads and writes run
 * as the project's owner, like the edit itself.
 */
import path from 'node:path';
import { asUser, type UserIds } from '../user-fs/as-user.js';
import { MAX_FILE_BYTES, writeProjectFiles, type EditedFile } from './project-files.js';

export interface EditUndo {
  /** Names of the files the edit changed (`Dockerfile`, `requirements.txt`). */
  files: string[];
  /** Puts the files back; true when every one was restored. */
  run: () => Promise<boolean>;
}

/** How to take back the edit that made `edits` in the verified project `root`; null when it changed nothing. */
export function prepareUndo(ids: UserIds, root: string, edits: EditedFile[]): EditUndo | null {
  if (edits.length === 0) return null;
  return {
    files: edits.map((e) => path.basename(e.real)),
    run: async () => {
      const names = edits.map((e) => path.relative(root, e.real));
      const now = await asUser(ids, { op: 'read', root, names, maxBytes: MAX_FILE_BYTES });
      let all = true;
      const restore: Array<{ target: string; content: Buffer; mode: number }> = [];
      for (const [i, e] of edits.entries()) {
        const r = now.read?.[names[i]!];
        if (r?.status !== 'ok' || !Buffer.from(r.content, 'base64').equals(e.after)) {
          all = false;
          continue;
        }
        if (e.before === null) await asUser(ids, { op: 'remove', root, target: e.real });
        else restore.push({ target: e.real, content: e.before, mode: r.mode });
      }
      await writeProjectFiles(ids, root, restore);
      return all;
    },
  };
}

/** The sentence that tells the user what became of their files after a failed build. */
export function editNote(files: string[], restored: boolean): string {
  const names = files.map((f) => `\`${f}\``).join(' and ');
  return restored
    ? ` The lines I added to your ${names} were taken out again, so ${files.length > 1 ? 'they are' : 'it is'} as before: fix the package and try again.`
    : ` Your ${names} changed while the image was building, so I left ${files.length > 1 ? 'them' : 'it'} as ${files.length > 1 ? 'they are' : 'it is'}; the lines I added may still be there.`;
}

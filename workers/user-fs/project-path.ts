import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Ds01Config, UserEntry } from '../../src/config/ds01-config.js';
import { ProjectName } from '../../src/ds01/naming.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';

/**
 * Where a user's project really is, checked the way a careful admin would before letting root act
 * on it: from the configured workspace root down, every folder the user controls must be a real
 * folder (no symlink) owned by that user. Only metadata is read (lstat), never a file's content:
 * content is read and written by a process running as the user (see as-user.ts).
 *
 * Why: a project folder, or the workspace itself, can be a symlink the user planted to another
 * user's folder or to `/`. Following it as root would edit that user's Dockerfile, send their files
 * as a build context, or bind their folder (or the host's root) into a container.
 */
export interface VerifiedProject {
  /** The project's real path: what is bound into the container and packed as build context. */
  dir: string;
  /** Identity of the folder when it was checked; the running container's /workspace must match it. */
  dev: number;
  ino: number;
}

/** The components of the configured workspace path, with the admin-controlled part resolved. */
async function workspaceParts(cfg: Ds01Config, user: string): Promise<{ trusted: string; owned: string[] }> {
  const template = path.resolve(cfg.baseDir, cfg.workspaces);
  const parts = template.split(path.sep).filter(Boolean);
  const first = parts.findIndex((p) => p.includes('{user}'));
  // The part above the first `{user}` folder is the admin's (/home): links there are the admin's choice.
  const trustedRaw = path.sep + parts.slice(0, first).join(path.sep);
  let trusted: string;
  try {
    trusted = await realpath(trustedRaw);
  } catch {
    throw new Ds01Error(ErrorCode.Config, `The workspaces folder ${trustedRaw} does not exist on this host. Tell the DS01 admins.`);
  }
  return { trusted, owned: parts.slice(first).map((p) => p.replaceAll('{user}', user)) };
}

function refuse(project: string, what: string): Ds01Error {
  return new Ds01Error(
    ErrorCode.BadInput,
    `I did not touch \`${project}\`: ${what}. I only work in real folders inside your own workspace that belong to you. Replace the link with a real folder (or ask the admins to fix the owner), then try again.`,
  );
}

export async function verifyProjectDir(cfg: Ds01Config, user: UserEntry, project: string): Promise<VerifiedProject> {
  if (!ProjectName.safeParse(project).success) throw new Ds01Error(ErrorCode.BadInput, `\`${project.slice(0, 64)}\` is not a project name I can use.`);
  const { trusted, owned } = await workspaceParts(cfg, user.user);
  let here = trusted;
  const steps = [...owned, project];
  for (const [i, name] of steps.entries()) {
    here = path.join(here, name);
    const isProject = i === steps.length - 1;
    let st;
    try {
      st = await lstat(here);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Ds01Error(
          ErrorCode.UnknownProject,
          isProject
            ? `There is no project called \`${project}\` in your workspace (looked for ${here}). Create it with \`project init ${project}\` on the server, or check the name with \`/ds01 status\`.`
            : `Your workspace folder ${here} does not exist on this host, so there is no project \`${project}\` to use. Ask the DS01 admins if it should be there.`,
        );
      }
      throw err;
    }
    const where = isProject ? 'the project folder' : `the folder ${here}`;
    if (st.isSymbolicLink()) throw refuse(project, `${where} is a symbolic link`);
    if (!st.isDirectory()) throw refuse(project, `${where} is not a folder`);
    if (st.uid !== user.uid) throw refuse(project, `${where} does not belong to you (owner uid ${st.uid})`);
    if (isProject) return { dir: here, dev: st.dev, ino: st.ino };
  }
  throw new Ds01Error(ErrorCode.Internal, 'unreachable');
}

import { z } from 'zod';

/**
 * DS01's names and labels, shared by bot and worker so both agree with DS01's CLI on the same host:
 * image `ds01-<uid>/<project>:latest`, container `<project>._.<uid>`, labels in the ds01.* namespace.
 */

/** Longest project name: DS01 folder names are short, and `ds01-<uid>/<project>` must stay well under Docker's 255. */
export const MAX_PROJECT_NAME = 64;

/**
 * Docker's reference grammar for one repository path component: lowercase letters and digits in
 * runs, joined by one `.`, one `_`, two `__`, or any number of `-`. Such a name is also a valid
 * start of a container name, so `ds01-<uid>/<project>:latest` and `<project>._.<uid>` are both
 * accepted by the engine, and it can never contain `._.` (DS01's separator) or be `.`/`..`.
 * Each alternative starts with a different character, so the regex cannot backtrack.
 */
const PROJECT_NAME_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

export const PROJECT_NAME_RULE =
  'project names use lowercase letters and digits, may be joined by a single `.` or `_`, a double `__`, or dashes, and start and end with a letter or digit (for example `demo`, `my-model`, `exp_2`)';

/** Project folder names we accept: what Docker allows in an image repository and a container name. */
export const ProjectName = z
  .string()
  .min(1, { message: 'a project name is needed', abort: true })
  // `abort`: a name that is too long is refused before the pattern ever looks at it.
  .max(MAX_PROJECT_NAME, { message: `project names are at most ${MAX_PROJECT_NAME} characters`, abort: true })
  .regex(PROJECT_NAME_RE, PROJECT_NAME_RULE);

export function imageName(uid: number, project: string): string {
  return `ds01-${uid}/${project}:latest`;
}

export function containerName(project: string, uid: number): string {
  return `${project}._.${uid}`;
}

/** `<project>._.<uid>` read back; null for names DS01 did not make. */
export function parseContainerName(name: string): { project: string; uid: number } | null {
  const at = name.lastIndexOf('._.');
  if (at <= 0) return null;
  const project = name.slice(0, at);
  const uid = name.slice(at + 3);
  if (!/^[0-9]{1,10}$/.test(uid) || !ProjectName.safeParse(project).success) return null;
  return { project, uid: Number(uid) };
}

export const Label = {
  managed: 'ds01.managed',
  user: 'ds01.user',
  project: 'ds01.project',
  interface: 'ds01.interface',
  createdAt: 'ds01.created_at',
  workMount: 'ds01.work_mount',
  workspace: 'ds01.workspace',
  gpuUuid: 'ds01.gpu.uuid',
  gpuUuids: 'ds01.gpu.uuids',
  gpuSlots: 'ds01.gpu.slots',
  gpuAllocated: 'ds01.gpu.allocated',
  gpus: 'ds01.gpus',
  userId: 'ds01.user_id',
  groupId: 'ds01.group_id',
  username: 'ds01.username',
  containerName: 'ds01.container_name',
  image: 'ds01.image',
  protected: 'ds01.protected',
  /** Ours, inside DS01's namespace: the request that created the container (re-run detection). */
  requestId: 'ds01.request_id',
} as const;

/** DS01's CLI marks containers made by `project launch` as orchestration; we are the same flow. */
export const INTERFACE_ORCHESTRATION = 'orchestration';

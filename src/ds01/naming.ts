import { z } from 'zod';

/**
 * DS01's names and labels, shared by bot and worker so both agree with DS01's CLI on the same host:
 * image `ds01-<uid>/<project>:latest`, container `<project>._.<uid>`, labels in the ds01.* namespace.
 */

/** Project folder names we accept: what Docker allows in an image repository and a container name. */
export const ProjectName = z
  .string()
  .min(1, 'a project name is needed')
  .max(64, 'project names are at most 64 characters')
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'project names use lowercase letters, digits, `-` and `_`, and start with a letter or digit');

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

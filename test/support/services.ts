import { chmodSync, chownSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { dockerOptionsFromHost } from '../../workers/docker/engine.js';

/**
 * The real Redis and Docker engine the tests run against. `npm test` (scripts/test.sh) starts
 * private ones and exports their addresses; running vitest directly needs the same variables.
 */
import { LIMITS_FILE, REPO_ROOT } from './paths.js';

export { LIMITS_FILE, REPO_ROOT };

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with \`npm test\`, which starts Redis and Docker and sets it`);
  return v;
}

export const redisUrl = (): string => required('REDIS_URL');
export const dockerHost = (): string => required('DOCKER_HOST');
export const baseImage = (): string => process.env.DS01_TEST_BASE_IMAGE ?? 'ds01-test/base:latest';

export function docker(): Docker {
  return new Docker(dockerOptionsFromHost(dockerHost()));
}

export function redis(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: null });
}

/** A clean slate: no DS01 containers or images on the test engine, an empty Redis. */
export async function resetWorld(): Promise<void> {
  const d = docker();
  const containers = await d.listContainers({ all: true, filters: { label: ['ds01.managed=true'] } });
  await Promise.all(
    containers.map((c) =>
      d
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  const images = await d.listImages();
  // By tag, not by id: a project image with nothing of its own (`FROM base` alone) is the base image
  // under a second tag, and removing it by id would take the base image with it.
  for (const img of images) {
    // By tag: an image built with no new layer shares its id with the test base image, which stays.
    for (const tag of img.RepoTags ?? []) {
      if (tag.startsWith('ds01-') && !tag.startsWith('ds01-test/'))
        await d
          .getImage(tag)
          .remove({ force: true })
          .catch(() => undefined);
    }
  }
  const r = redis();
  await r.flushdb();
  await r.quit();
}

export interface TestUser {
  slack_id: string;
  user: string;
  uid: number;
  group?: string;
}

export const ALICE: TestUser = { slack_id: 'U0ALICE', user: 'alice', uid: 1001, group: 'student' };
export const BOB: TestUser = { slack_id: 'U0BOB', user: 'bob', uid: 1002, group: 'student' };
export const ADMIN: TestUser = { slack_id: 'U0ADMIN', user: 'admin1', uid: 1000, group: 'admin' };

/** A temp folder with a DS01 config, DS01's own resource-limits.yaml, and users' workspaces. */
export class World {
  readonly dir: string;
  readonly configFile: string;

  constructor(users: TestUser[] = [ALICE, BOB, ADMIN], opts: { notifyChannel?: string } = {}) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'ds01-world-'));
    // Like /home on a real host: everyone may pass through, each user owns their own home.
    chmodSync(this.dir, 0o755);
    this.configFile = path.join(this.dir, 'config.yaml');
    const lines = [
      `notify_channel: ${opts.notifyChannel ?? 'C0DS01NOTE'}`,
      `workspaces: ${this.dir}/home/{user}/workspace`,
      `limits_file: ${LIMITS_FILE}`,
      `admin_contact: "#ds01-help"`,
      'users:',
      ...users.map((u) => `  - { slack_id: ${u.slack_id}, user: ${u.user}, uid: ${u.uid}${u.group ? `, group: ${u.group}` : ''} }`),
    ];
    writeFileSync(this.configFile, lines.join('\n') + '\n');
  }

  projectDir(user: TestUser, project: string): string {
    return path.join(this.dir, 'home', user.user, 'workspace', project);
  }

  /** The user's home and workspace, owned by them as on a real host (the worker checks that). */
  addHome(user: TestUser): string {
    const home = path.join(this.dir, 'home', user.user);
    mkdirSync(path.join(home, 'workspace'), { recursive: true });
    chmodSync(path.join(this.dir, 'home'), 0o755);
    chownSync(home, user.uid, user.uid);
    chmodSync(home, 0o750);
    chownSync(path.join(home, 'workspace'), user.uid, user.uid);
    return path.join(home, 'workspace');
  }

  /** Gives a file or folder the user made in their tree to them (tests write as root). */
  own(user: TestUser, ...paths: string[]): void {
    for (const p of paths) chownSync(p, user.uid, user.uid);
  }

  /** A project whose Dockerfile builds from the offline test image, DS01-style, owned by the user. */
  addProject(user: TestUser, project: string, dockerfile?: string): string {
    this.addHome(user);
    const dir = this.projectDir(user, project);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'Dockerfile'),
      dockerfile ??
        [
          `FROM ${baseImage()}`,
          'ARG DS01_USER_ID',
          'ARG DS01_GROUP_ID',
          'ARG DS01_USERNAME',
          'RUN echo "$DS01_USERNAME:$DS01_USER_ID:$DS01_GROUP_ID" > /etc/ds01-build-user',
          '',
          '# Custom additional packages',
          'RUN pip install --no-cache-dir numpy==1.26.4',
          '',
          'WORKDIR /workspace',
          'CMD ["/bin/sh"]',
          '',
        ].join('\n'),
    );
    writeFileSync(path.join(dir, 'train.py'), 'print("hello from the workspace")\n');
    this.own(user, dir, path.join(dir, 'Dockerfile'), path.join(dir, 'train.py'));
    return dir;
  }
}

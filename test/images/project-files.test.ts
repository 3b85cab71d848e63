import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, link, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { applyImageEdit } from '../../workers/images/project-files.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';

/** The edits run in a child process as the project's owner; here the owner is whoever runs the tests. */
const ME = { user: 'tester', uid: process.getuid!(), gid: process.getgid!() };

const DOCKERFILE = `FROM python:3.11-slim
WORKDIR /workspace

# Custom additional packages
RUN pip install --no-cache-dir \\
    einops

CMD ["/bin/bash"]
`;

let base: string;
let project: string;
let outside: string;

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'ds01-images-'));
  project = path.join(base, 'workspace', 'demo');
  outside = path.join(base, 'outside');
  await mkdir(project, { recursive: true });
  await mkdir(outside, { recursive: true });
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function expectDs01(promise: Promise<unknown>, code: string): Promise<Ds01Error> {
  let thrown: unknown;
  try {
    await promise;
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(Ds01Error);
  expect((thrown as Ds01Error).code).toBe(code);
  return thrown as Ds01Error;
}

describe('applyImageEdit', () => {
  it('writes the new Dockerfile and a .bak of the old one', async () => {
    await writeFile(path.join(project, 'Dockerfile'), DOCKERFILE);
    const result = await applyImageEdit(ME, project, { python: ['rich==13.7.1'], system: ['ffmpeg'] });

    expect(result.changed).toBe(true);
    expect(result.added).toEqual({ python: ['rich==13.7.1'], system: ['ffmpeg'] });
    expect(await readFile(path.join(project, 'Dockerfile.bak'), 'utf8')).toBe(DOCKERFILE);
    const updated = await readFile(path.join(project, 'Dockerfile'), 'utf8');
    expect(updated).toContain('    einops \\\n    rich==13.7.1\n');
    expect(updated).toContain('# DS01 system packages');
    expect(result.backups).toEqual([path.join(project, 'Dockerfile.bak')]);
    expect(result.written).toHaveLength(1);
  });

  it('writes nothing, not even a backup, when everything is already there', async () => {
    await writeFile(path.join(project, 'Dockerfile'), DOCKERFILE);
    const result = await applyImageEdit(ME, project, { python: ['einops'], system: [] });
    expect(result.changed).toBe(false);
    expect(result.alreadyPresent.python).toEqual(['einops']);
    expect(result.written).toEqual([]);
    expect((await readdir(project)).sort()).toEqual(['Dockerfile']);
  });

  it('replaces the file by rename (old inode untouched), keeps its mode, and leaves no temp files', async () => {
    const file = path.join(project, 'Dockerfile');
    await writeFile(file, DOCKERFILE);
    await chmod(file, 0o640);
    // A hard link still pointing at the old inode shows the content was not rewritten in place.
    const oldInode = path.join(outside, 'old-inode');
    await link(file, oldInode);

    await applyImageEdit(ME, project, { python: ['httpx'], system: [] });

    expect(await readFile(oldInode, 'utf8')).toBe(DOCKERFILE);
    expect(await readFile(file, 'utf8')).toContain('httpx');
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect((await readdir(project)).sort()).toEqual(['Dockerfile', 'Dockerfile.bak']);
  });

  it('keeps bytes that are not valid UTF-8 exactly as they were', async () => {
    const file = path.join(project, 'Dockerfile');
    const latin1Comment = Buffer.from([0x23, 0x20, 0x4b, 0xe4, 0x73, 0x65, 0x0a]); // "# Käse" in Latin-1
    await writeFile(file, Buffer.concat([latin1Comment, Buffer.from(DOCKERFILE)]));
    await applyImageEdit(ME, project, { python: ['httpx'], system: [] });
    const after = await readFile(file);
    expect(after.subarray(0, latin1Comment.length).equals(latin1Comment)).toBe(true);
  });

  it('uses requirements.txt when the Dockerfile installs it, with its own .bak', async () => {
    const dockerfile = 'FROM python:3.11\nCOPY requirements.txt /tmp/\nRUN pip install --no-cache-dir -r /tmp/requirements.txt\n';
    await writeFile(path.join(project, 'Dockerfile'), dockerfile);
    await writeFile(path.join(project, 'requirements.txt'), 'torch==2.3.0\n');

    const result = await applyImageEdit(ME, project, { python: ['einops'], system: [] });

    expect(result.pythonTarget).toBe('requirements.txt');
    expect(await readFile(path.join(project, 'requirements.txt'), 'utf8')).toBe('torch==2.3.0\neinops\n');
    expect(await readFile(path.join(project, 'requirements.txt.bak'), 'utf8')).toBe('torch==2.3.0\n');
    expect(await readFile(path.join(project, 'Dockerfile'), 'utf8')).toBe(dockerfile);
    expect((await readdir(project)).sort()).toEqual(['Dockerfile', 'requirements.txt', 'requirements.txt.bak']);
  });

  it('creates requirements.txt when the Dockerfile expects one that is missing', async () => {
    await writeFile(path.join(project, 'Dockerfile'), 'FROM python:3.11\nCOPY . /app\nWORKDIR /app\nRUN pip install -r requirements.txt\n');
    await applyImageEdit(ME, project, { python: ['einops'], system: [] });
    expect(await readFile(path.join(project, 'requirements.txt'), 'utf8')).toBe('einops\n');
    expect((await readdir(project)).sort()).toEqual(['Dockerfile', 'requirements.txt']);
  });

  it('says so when the project has no Dockerfile, or does not exist', async () => {
    await expectDs01(applyImageEdit(ME, project, { python: ['einops'], system: [] }), ErrorCode.NoDockerfile);
    await expectDs01(applyImageEdit(ME, path.join(base, 'nope'), { python: ['einops'], system: [] }), ErrorCode.UnknownProject);
  });

  it('refuses a Dockerfile symlinked to a file outside the project, and leaves that file alone', async () => {
    const target = path.join(outside, 'Dockerfile');
    await writeFile(target, DOCKERFILE);
    await symlink(target, path.join(project, 'Dockerfile'));

    const err = await expectDs01(applyImageEdit(ME, project, { python: ['httpx'], system: [] }), ErrorCode.BadInput);
    expect(err.userMessage).toContain('outside the project folder');
    expect(await readFile(target, 'utf8')).toBe(DOCKERFILE);
    expect((await readdir(project)).sort()).toEqual(['Dockerfile']);
  });

  it('refuses a relative ../ symlink and a requirements.txt symlink out of the project', async () => {
    await writeFile(path.join(outside, 'Dockerfile'), DOCKERFILE);
    await symlink('../../outside/Dockerfile', path.join(project, 'Dockerfile'));
    await expectDs01(applyImageEdit(ME, project, { python: ['httpx'], system: [] }), ErrorCode.BadInput);

    await rm(path.join(project, 'Dockerfile'));
    await writeFile(path.join(project, 'Dockerfile'), 'FROM python:3.11\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n');
    await writeFile(path.join(outside, 'secret.txt'), 'do not touch\n');
    await symlink(path.join(outside, 'secret.txt'), path.join(project, 'requirements.txt'));
    await expectDs01(applyImageEdit(ME, project, { python: ['httpx'], system: [] }), ErrorCode.BadInput);
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('do not touch\n');
  });

  it('refuses a dangling symlink and a directory in place of requirements.txt', async () => {
    await symlink(path.join(outside, 'missing'), path.join(project, 'Dockerfile'));
    await expectDs01(applyImageEdit(ME, project, { python: ['httpx'], system: [] }), ErrorCode.BadInput);

    await rm(path.join(project, 'Dockerfile'));
    await writeFile(path.join(project, 'Dockerfile'), 'FROM python:3.11\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n');
    await mkdir(path.join(project, 'requirements.txt'));
    await expectDs01(applyImageEdit(ME, project, { python: ['httpx'], system: [] }), ErrorCode.BadInput);
  });

  it('follows a symlink that stays inside the project, keeping the link', async () => {
    await mkdir(path.join(project, 'docker'));
    await writeFile(path.join(project, 'docker', 'Dockerfile'), DOCKERFILE);
    await symlink('docker/Dockerfile', path.join(project, 'Dockerfile'));

    await applyImageEdit(ME, project, { python: ['httpx'], system: [] });

    expect((await lstat(path.join(project, 'Dockerfile'))).isSymbolicLink()).toBe(true);
    expect(await readlink(path.join(project, 'Dockerfile'))).toBe('docker/Dockerfile');
    expect(await readFile(path.join(project, 'docker', 'Dockerfile'), 'utf8')).toContain('httpx');
  });

  it('does not write through a planted Dockerfile.bak symlink', async () => {
    await writeFile(path.join(project, 'Dockerfile'), DOCKERFILE);
    await writeFile(path.join(outside, 'victim'), 'original\n');
    await symlink(path.join(outside, 'victim'), path.join(project, 'Dockerfile.bak'));

    await applyImageEdit(ME, project, { python: ['httpx'], system: [] });

    expect(await readFile(path.join(outside, 'victim'), 'utf8')).toBe('original\n');
    expect((await lstat(path.join(project, 'Dockerfile.bak'))).isFile()).toBe(true);
  });

  it('serialises concurrent edits of one project: every package lands exactly once', async () => {
    await writeFile(path.join(project, 'Dockerfile'), DOCKERFILE);
    const names = Array.from({ length: 12 }, (_, i) => `pkg-${i}`);
    let inside = 0;
    let maxInside = 0;
    const lock = async <T>(fn: () => Promise<T>): Promise<T> => {
      inside += 1;
      maxInside = Math.max(maxInside, inside);
      try {
        return await fn();
      } finally {
        inside -= 1;
      }
    };

    const results = await Promise.all(names.map((name, i) => applyImageEdit(ME, project, { python: [name, 'shared-pkg'], system: i % 2 === 0 ? ['ffmpeg'] : ['sox'] }, { lock })));

    expect(maxInside).toBe(1);
    const final = await readFile(path.join(project, 'Dockerfile'), 'utf8');
    for (const name of [...names, 'shared-pkg', 'einops', 'ffmpeg', 'sox']) {
      const occurrences = final.split(/\s+/).filter((w) => w === name).length;
      expect(occurrences, name).toBe(1);
    }
    expect(results.filter((r) => r.added.python.includes('shared-pkg'))).toHaveLength(1);
    expect(results.filter((r) => r.added.system.includes('ffmpeg'))).toHaveLength(1);
    expect((await readdir(project)).sort()).toEqual(['Dockerfile', 'Dockerfile.bak']);
  });

  it('a failed edit does not block the next one for the same project', async () => {
    await writeFile(path.join(project, 'Dockerfile'), DOCKERFILE);
    const failing = applyImageEdit(ME, project, { python: ['bad name'], system: [] });
    const next = applyImageEdit(ME, project, { python: ['httpx'], system: [] });
    await expectDs01(failing, ErrorCode.BadInput);
    expect((await next).added.python).toEqual(['httpx']);
  });
});

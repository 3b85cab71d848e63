import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostImage, HostSnapshot } from '../../src/contract/hosts.js';
import { ImagePackagesReader, packagesInDockerfile, readProjectPackages } from '../../workers/images/image-packages.js';
import { editNote, prepareUndo } from '../../workers/images/edit-undo.js';
import { execFileSync } from 'node:child_process';
import { applyImageEdit } from '../../workers/images/project-files.js';

const GENERATED = `FROM aimehub/pytorch-2.8.0-aime-cuda12.6.3

# System packages
RUN apt-get update && apt-get install -y --no-install-recommends \\
    git \\
    curl \\
    && rm -rf /var/lib/apt/lists/*

# Core Data Science
RUN pip install --no-cache-dir \\
    pandas \\
    scipy

# Custom additional packages
RUN pip install --no-cache-dir \\
    einops \\
    'rich>=13' \\
    'transformers[torch]>=4.40'

WORKDIR /workspace
CMD ["/bin/bash"]
`;

describe('packagesInDockerfile', () => {
  it('lists the pip packages under the custom marker and every apt package of the final stage', () => {
    expect(packagesInDockerfile(GENERATED, null)).toEqual({
      python: ['einops', 'rich>=13', 'transformers[torch]>=4.40'],
      system: ['git', 'curl'],
      usesRequirementsTxt: false,
    });
  });

  it('without a marker, every pip install of the final stage counts; a builder stage does not', () => {
    const df = `FROM python:3.11 AS builder
RUN pip install build-only-tool
FROM python:3.11-slim
RUN pip install --no-cache-dir numpy==1.26.4 Foo_Bar
RUN apt-get install -y ffmpeg=7:6.1.1-3 && apt-get clean
`;
    expect(packagesInDockerfile(df, null)).toEqual({ python: ['numpy==1.26.4', 'Foo_Bar'], system: ['ffmpeg=7:6.1.1-3'], usesRequirementsTxt: false });
  });

  it('adds the entries of requirements.txt when the Dockerfile copies and installs it', () => {
    const df = `FROM python:3.11
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt
`;
    const req = '# pinned\nrich==13.7.1\neinops  # for rearrange\n-e ./local\nhttps://example.com/x.whl\n';
    expect(packagesInDockerfile(df, req)).toEqual({ python: ['rich==13.7.1', 'einops'], system: [], usesRequirementsTxt: true });
    // Not installed by the Dockerfile: the file is not part of the image.
    expect(packagesInDockerfile('FROM python:3.11\nRUN pip install numpy\n', req).python).toEqual(['numpy']);
  });

  it('leaves out variables, paths, URLs and options, and lists a package once', () => {
    const df = `FROM x
# Custom additional packages
RUN pip install $EXTRA ./local git+https://x/y.git --index-url http://x numpy -r other.txt
RUN pip install numpy==2.0
RUN apt-get install -y -o Dpkg::Options::=--force-confdef $PKGS ffmpeg
`;
    expect(packagesInDockerfile(df, null)).toEqual({ python: ['numpy==2.0'], system: ['ffmpeg'], usesRequirementsTxt: false });
  });

  it('does not throw on text that is not a Dockerfile', () => {
    for (const text of ['', '\u0000\u0001binary', 'RUN "unterminated', '\\\n\\\n', 'FROM\n'.repeat(1000)]) {
      const r = packagesInDockerfile(text, null);
      expect(r.python).toEqual([]);
      expect(r.system).toEqual([]);
    }
  });
});

describe('HostImage.packages', () => {
  it('defaults to empty lists for snapshots from workers that do not send them', () => {
    const img = HostImage.parse({ user: 'alice', uid: 1001, project: 'demo', image: 'ds01-1001/demo:latest', createdAt: '2024-01-01T00:00:00Z' });
    expect(img.packages).toEqual({ python: [], system: [] });
    const snap = HostSnapshot.parse({ hostId: 'gpu1', updatedAt: '2024-01-01T00:00:00Z', gpuMode: 'fake', gpus: [], containers: [], images: [img] });
    expect(snap.images[0]!.packages).toEqual({ python: [], system: [] });
  });
});

let base: string;
let project: string;

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'ds01-pkgs-'));
  project = path.join(base, 'workspace', 'demo');
  await mkdir(project, { recursive: true });
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const ME = { user: 'tester', uid: process.getuid!(), gid: process.getgid!() };

describe("reading a project's packages (as its owner)", () => {
  it('reads the Dockerfile, and reads again only when the image changed', async () => {
    const reader = new ImagePackagesReader();
    await writeFile(path.join(project, 'Dockerfile'), GENERATED);
    const load = () => readProjectPackages(ME, project);
    expect((await reader.read('ds01-1/demo:latest', '1', load)).python).toEqual(['einops', 'rich>=13', 'transformers[torch]>=4.40']);
    await writeFile(path.join(project, 'Dockerfile'), GENERATED.replace('einops', 'einx'));
    // Same image: the remembered answer, without reading the folder.
    expect((await reader.read('ds01-1/demo:latest', '1', load)).python).toContain('einops');
    expect((await reader.read('ds01-1/demo:latest', '2', load)).python).toEqual(['einx', 'rich>=13', 'transformers[torch]>=4.40']);
  });

  it('reads a missing folder, a missing Dockerfile, a FIFO or a link out of the project as no packages', async () => {
    const reader = new ImagePackagesReader();
    expect(await reader.read('a', '1', () => readProjectPackages(ME, path.join(base, 'nope')))).toEqual({ python: [], system: [] });
    expect(await readProjectPackages(ME, project)).toEqual({ python: [], system: [] });
    execFileSync('mkfifo', [path.join(project, 'Dockerfile')]);
    expect(await readProjectPackages(ME, project)).toEqual({ python: [], system: [] });
    await rm(path.join(project, 'Dockerfile'));
    const outside = path.join(base, 'outside-Dockerfile');
    await writeFile(outside, GENERATED);
    await symlink(outside, path.join(project, 'Dockerfile'));
    expect(await readProjectPackages(ME, project)).toEqual({ python: [], system: [] });
  });
});

describe('undoing an image edit after a failed build', () => {
  it('puts the Dockerfile back, and removes a requirements.txt the edit created', async () => {
    const df = 'FROM x\nCOPY . /src\nRUN pip install -r requirements.txt\n';
    await writeFile(path.join(project, 'Dockerfile'), df);
    const edit = await applyImageEdit(ME, project, { python: ['einops'], system: ['ffmpeg'] });
    expect(existsSync(path.join(project, 'requirements.txt'))).toBe(true);
    const undo = prepareUndo(ME, project, edit.edits);
    expect(undo!.files.sort()).toEqual(['Dockerfile', 'requirements.txt']);
    expect(await undo!.run()).toBe(true);
    expect(await readFile(path.join(project, 'Dockerfile'), 'utf8')).toBe(df);
    expect(existsSync(path.join(project, 'requirements.txt'))).toBe(false);
    expect(editNote(undo!.files, true)).toMatch(/taken out again/);
  });

  it('keeps a file the user changed during the build', async () => {
    const df = 'FROM x\n# Custom additional packages\nRUN pip install numpy\n';
    await writeFile(path.join(project, 'Dockerfile'), df);
    const edit = await applyImageEdit(ME, project, { python: ['einops'], system: [] });
    const undo = prepareUndo(ME, project, edit.edits);
    await writeFile(path.join(project, 'Dockerfile'), 'FROM x\n# edited by hand\n');
    expect(await undo!.run()).toBe(false);
    expect(await readFile(path.join(project, 'Dockerfile'), 'utf8')).toBe('FROM x\n# edited by hand\n');
    expect(editNote(undo!.files, false)).toMatch(/left it as it is/);
  });

  it('has nothing to undo when the edit wrote nothing', async () => {
    await writeFile(path.join(project, 'Dockerfile'), 'FROM x\nRUN pip install einops\n');
    const edit = await applyImageEdit(ME, project, { python: ['einops'], system: [] });
    expect(prepareUndo(ME, project, edit.edits)).toBeNull();
  });
});

/**
 * Which packages a project's Dockerfile adds to its image, for "packages already added" in the
 * image-update modal. Read-only and forgiving: anything unreadable or unexpected reads as "none".
 *
 * - Python: the packages of the final stage's pip installs under the `# Custom additional packages`
 *   marker (all of the final stage's pip installs when there is no marker), plus the entries of the
 *   project's requirements.txt when the Dockerfile copies and installs it.
 * - System: the packages of the final stage's apt-get/apt installs.
 *
 * Only words that are plain package specifiers are listed (normalised the way the modal
 * normalises input); paths, URLs, variables and options are left out.
 */
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ImagePackages } from '../../src/contract/hosts.js';
import { nameForField, parsePackageSpec, type PackageField } from '../../src/images/package-spec.js';
import { finalStageFirstLine, parseDockerfile } from './dockerfile-parse.js';
import { findAptInstalls, findPipInstalls, usesContextRequirementsTxt } from './install-commands.js';
import { requirementEntries } from './requirements-txt.js';

const MARKER_RE = /^[ \t]*#[ \t]*Custom additional packages\b/i;
/** Larger files are not read (the editor refuses them too). */
const MAX_FILE_BYTES = 1024 * 1024;

const none = (): ImagePackages => ({ python: [], system: [] });

/** Pure: the packages `dockerfile` (and the requirements.txt it installs, when given) add. */
export function packagesInDockerfile(dockerfile: string, requirementsTxt: string | null): ImagePackages & { usesRequirementsTxt: boolean } {
  const df = parseDockerfile(dockerfile);
  const pips = findPipInstalls(df);
  const apts = findAptInstalls(df);
  const stageLine = finalStageFirstLine(df);
  const marker = df.lines.findIndex((l, i) => i >= stageLine && df.lineKinds[i] === 'comment' && MARKER_RE.test(l.text));
  const custom = marker >= 0 ? pips.filter((p) => p.instruction.firstLine > marker) : pips;
  const usesRequirements = usesContextRequirementsTxt(df, pips);

  const python = [
    ...custom.flatMap((p) => p.packages.map((w) => w.value)),
    ...(usesRequirements && requirementsTxt !== null ? requirementEntries(requirementsTxt).map((e) => e.value) : []),
  ];
  const system = apts.flatMap((a) => a.packages.map((w) => w.value));
  return { python: specsOf('python', python), system: specsOf('system', system), usesRequirementsTxt: usesRequirements };
}

/** Valid specifiers only, normalised, one per package name (the last one written wins, as in pip). */
function specsOf(field: PackageField, words: string[]): string[] {
  const byName = new Map<string, string>();
  for (const w of words) {
    const parsed = parsePackageSpec(field, w);
    if (!parsed.ok) continue;
    const name = nameForField(field, parsed.spec);
    byName.delete(name);
    byName.set(name, parsed.spec);
  }
  return [...byName.values()];
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** A regular file of the project (links only when they stay inside it), or null. */
async function projectFile(root: string, name: string): Promise<{ real: string; key: string } | null> {
  const p = path.join(root, name);
  let st = await lstat(p).catch(() => null);
  if (!st) return null;
  let real = p;
  if (st.isSymbolicLink()) {
    real = await realpath(p).catch(() => '');
    if (!real || !isInside(root, real)) return null;
    st = await stat(real).catch(() => null);
    if (!st) return null;
  }
  if (!st.isFile() || st.size > MAX_FILE_BYTES) return null;
  return { real, key: `${st.ino}:${st.size}:${st.mtimeMs}` };
}

/**
 * Reads project folders' packages, remembering each result until the files change (the host
 * snapshot is rebuilt every few seconds; a stat per file is all an unchanged project costs).
 */
export class ImagePackagesReader {
  private readonly cache = new Map<string, { key: string; packages: ImagePackages }>();

  async read(projectDir: string): Promise<ImagePackages> {
    try {
      const root = await realpath(projectDir);
      const dockerfile = await projectFile(root, 'Dockerfile');
      if (!dockerfile) return none();
      const requirements = await projectFile(root, 'requirements.txt');
      const key = `${dockerfile.key}|${requirements?.key ?? '-'}`;
      const hit = this.cache.get(projectDir);
      if (hit && hit.key === key) return hit.packages;
      const text = await readFile(dockerfile.real, 'latin1');
      const reqText = requirements ? await readFile(requirements.real, 'latin1') : null;
      const { python, system } = packagesInDockerfile(text, reqText);
      const packages = { python, system };
      this.cache.set(projectDir, { key, packages });
      return packages;
    } catch {
      return none();
    }
  }

  /** Forgets projects that are no longer listed (their images are gone). */
  keepOnly(projectDirs: Iterable<string>): void {
    const keep = new Set(projectDirs);
    for (const dir of this.cache.keys()) if (!keep.has(dir)) this.cache.delete(dir);
  }
}

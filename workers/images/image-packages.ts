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
import type { ImagePackages } from '../../src/contract/hosts.js';
import { nameForField, parsePackageSpec, type PackageField } from '../../src/images/package-spec.js';
import { finalStageFirstLine, parseDockerfile } from './dockerfile-parse.js';
import { findAptInstalls, findPipInstalls, usesContextRequirementsTxt } from './install-commands.js';
import { requirementEntries } from './requirements-txt.js';
import { asUser, type UserIds } from '../user-fs/as-user.js';
// Larger files are not read: the editor refuses them too.
import { MAX_FILE_BYTES } from './project-files.js';

const MARKER_RE = /^[ \t]*#[ \t]*Custom additional packages\b/i;

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

/**
 * Remembers each project's packages until its image changes (the host snapshot is rebuilt every
 * few seconds): the project's files are read, as the user, once per build of the image.
 */
export class ImagePackagesReader {
  private readonly cache = new Map<string, { key: string; packages: ImagePackages }>();

  async read(project: string, key: string, load: () => Promise<ImagePackages>): Promise<ImagePackages> {
    const hit = this.cache.get(project);
    if (hit && hit.key === key) return hit.packages;
    const packages = await load().catch(() => none());
    this.cache.set(project, { key, packages });
    return packages;
  }

  /** Forgets projects that are no longer listed (their images are gone). */
  keepOnly(projects: Iterable<string>): void {
    const keep = new Set(projects);
    for (const p of this.cache.keys()) if (!keep.has(p)) this.cache.delete(p);
  }
}

/** The packages a verified project folder's Dockerfile (and requirements.txt) add, read as the user. */
export async function readProjectPackages(ids: UserIds, dir: string): Promise<ImagePackages> {
  const res = await asUser(ids, { op: 'read', root: dir, names: ['Dockerfile', 'requirements.txt'], maxBytes: MAX_FILE_BYTES });
  const docker = res.read?.Dockerfile;
  if (docker?.status !== 'ok') return none();
  const req = res.read?.['requirements.txt'];
  const text = Buffer.from(docker.content, 'base64').toString('latin1');
  const reqText = req?.status === 'ok' ? Buffer.from(req.content, 'base64').toString('latin1') : null;
  const { python, system } = packagesInDockerfile(text, reqText);
  return { python, system };
}

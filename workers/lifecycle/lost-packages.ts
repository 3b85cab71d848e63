import type { DockerEngine, ResourceSpec, RunAs } from '../docker/engine.js';

/**
 * Which pip packages live only in a container — installed (or changed) after it was created from
 * its image, and so lost when it is retired. Compares `pip list --format=json` inside the running
 * container with the same command in a throwaway container of its image, as DS01's retire does.
 */
export type PipList = Map<string, string>; // normalised name → version

export function parsePipList(json: string): PipList | null {
  try {
    const rows = JSON.parse(json.trim() || '[]') as Array<{ name?: unknown; version?: unknown }>;
    if (!Array.isArray(rows)) return null;
    const out: PipList = new Map();
    for (const r of rows) {
      if (typeof r.name === 'string' && typeof r.version === 'string') out.set(normalise(r.name), r.version);
    }
    return out;
  } catch {
    return null;
  }
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** `name==version` for every package that is new or at another version in the container. */
export function diffPackages(container: PipList, image: PipList): string[] {
  const lost: string[] = [];
  for (const [name, version] of container) if (image.get(name) !== version) lost.push(`${name}==${version}`);
  return lost.sort();
}

export type LostPackages = { lost: string[]; unknown: null } | { lost: []; unknown: string };

/**
 * Both commands run as the owner: inside their container (where pip's user site holds what they
 * installed) and in a throwaway container of the image, hardened and limited like theirs.
 */
export async function lostPackages(engine: DockerEngine, container: string, image: string, running: boolean, runAs: RunAs, limits: ResourceSpec): Promise<LostPackages> {
  if (!running) return { lost: [], unknown: 'the container was not running, so its packages could not be listed' };
  const cmd = ['pip', 'list', '--format=json', '--disable-pip-version-check'];
  try {
    const inside = await engine.exec(container, cmd, runAs);
    const mine = inside.exitCode === 0 ? parsePipList(inside.stdout) : null;
    if (!mine) return { lost: [], unknown: 'pip is not available in the container, so its packages could not be listed' };
    const base = await engine.runOnce(image, cmd, runAs, limits);
    const theirs = base.exitCode === 0 ? parsePipList(base.stdout) : null;
    if (!theirs) return { lost: [], unknown: `the image ${image} could not be checked, so I can't tell which packages were only in the container` };
    return { lost: diffPackages(mine, theirs), unknown: null };
  } catch (err) {
    return { lost: [], unknown: `the package check failed (${(err as Error).message.slice(0, 120)})` };
  }
}

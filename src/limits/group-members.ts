import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Ds01Config } from '../config/ds01-config.js';
import type { ResourceLimits } from './resource-limits.js';

/**
 * DS01 keeps group membership in `groups/<group>.members` beside resource-limits.yaml: one user name
 * a line, `#` comments, `archived.members` for people who left. When the bot's config gives a user
 * no group, that is where their group comes from (and failing both, DS01's `default_group`).
 */
export interface GroupMembers {
  /** user name → group. */
  byUser: Map<string, string>;
  /** Users listed in more than one group file: the first (by file name) is used. */
  conflicts: Array<{ user: string; groups: string[] }>;
}

/** Largest members file read (thousands of names fit well under it). */
const MAX_FILE_BYTES = 1_000_000;

export function parseMembers(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.slice(0, MAX_FILE_BYTES).split('\n')) {
    const hash = raw.indexOf('#');
    const name = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (name && name.length <= 128 && !name.includes(' ')) out.push(name);
  }
  return out;
}

export function readGroupMembers(limitsFile: string): GroupMembers {
  const dir = path.join(path.dirname(limitsFile), 'groups');
  const byUser = new Map<string, string>();
  const seen = new Map<string, string[]>();
  if (!existsSync(dir)) return { byUser, conflicts: [] };
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.members') && f !== 'archived.members')
    .sort();
  for (const f of files) {
    const file = path.join(dir, f);
    if (!statSync(file).isFile() || statSync(file).size > MAX_FILE_BYTES) continue;
    const group = f.slice(0, -'.members'.length);
    for (const name of parseMembers(readFileSync(file, 'utf8'))) {
      // DS01 lists domain accounts as `name@domain`; the bot's config uses the Unix name.
      for (const key of new Set([name, name.split('@')[0]!])) {
        seen.set(key, [...(seen.get(key) ?? []), group]);
        if (!byUser.has(key)) byUser.set(key, group);
      }
    }
  }
  const conflicts = [...seen.entries()].filter(([, g]) => new Set(g).size > 1).map(([user, groups]) => ({ user, groups: [...new Set(groups)] }));
  return { byUser, conflicts };
}

/**
 * The config with each group-less user given their DS01 group from the members files (only groups
 * resource-limits.yaml defines; others are left to `default_group`).
 */
export function withGroupsFromMembers(config: Ds01Config, limits: ResourceLimits, members: GroupMembers): { config: Ds01Config; assigned: number } {
  let assigned = 0;
  const users = config.users.map((u) => {
    if (u.group) return u;
    const g = members.byUser.get(u.user);
    if (!g || !(g in limits.groups)) return u;
    assigned++;
    return { ...u, group: g };
  });
  return { config: { ...config, users }, assigned };
}

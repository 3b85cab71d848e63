import type { PackageNotices } from '../../src/config/ds01-config.js';
import type { PipPackage } from '../../src/contract/jobs.js';
import { packageName } from '../../src/images/package-spec.js';

/**
 * The pure middle of package notices: which packages in a container's pip user site are new to
 * tell the owner about, which were told and have since reached the image, and whether a notice may
 * go out now (quiet hours). No I/O here; workers/lifecycle/package-watch.ts does the rest.
 */

/** Most user-site packages looked at per container (a larger list is cut, never buffered). */
export const MAX_LISTED = 200;
const MAX_NAME = 100;
const MAX_VERSION = 64;

/**
 * Reads `pip list --user --format=json` output (text the container's owner controls): entries
 * whose name and version are plain pip words, names normalised as PEP 503 says, at most MAX_LISTED.
 * Null when it is not a JSON list.
 */
export function parseUserSite(json: string): PipPackage[] | null {
  let rows: unknown;
  try {
    rows = JSON.parse(json.trim() || '[]');
  } catch {
    return null;
  }
  if (!Array.isArray(rows)) return null;
  const out = new Map<string, PipPackage>();
  for (const r of rows) {
    if (out.size >= MAX_LISTED) break;
    const { name, version } = (r ?? {}) as { name?: unknown; version?: unknown };
    if (typeof name !== 'string' || typeof version !== 'string') continue;
    // Length first, then linear single-class patterns.
    if (name.length > MAX_NAME || version.length > MAX_VERSION) continue;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || !/^[A-Za-z0-9][A-Za-z0-9.+!_-]*$/.test(version)) continue;
    const n = packageName(name);
    if (n) out.set(n, { name: n, version });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * What the project's Dockerfile declares, by normalised name: the pinned version (`==`), or null
 * when it installs the package at any version.
 */
export function declaredVersions(specs: string[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const spec of specs.slice(0, 1000)) {
    const name = packageName(spec);
    if (!name) continue;
    const eq = spec.indexOf('==');
    out.set(name, eq >= 0 && spec.indexOf('===') < 0 ? spec.slice(eq + 2).trim() || null : null);
  }
  return out;
}

/** Whether the image (its Dockerfile) has this package at the version in the container. */
export function inImage(p: PipPackage, declared: Map<string, string | null>): boolean {
  if (!declared.has(p.name)) return false;
  const pinned = declared.get(p.name);
  return pinned === null || pinned === undefined || pinned === p.version;
}

/** What is recorded per container, as read from its Redis hash. */
export interface WatchState {
  offered: Map<string, { v: string; at: string }>;
  silenced: Set<string>;
  added: Map<string, string>;
}

export interface NoticePlan {
  /** In the user site and not in the image: what the App Home lists. */
  onlyHere: PipPackage[];
  /** Never offered before, not in the image: the reason to send a notice now. */
  fresh: PipPackage[];
  /** Offered before and now in the image (not recorded as added yet). */
  nowAdded: PipPackage[];
  /** In the user site and in the image, never recorded as added (offered or not): for the share. */
  reached: PipPackage[];
}

export function planNotice(userSite: PipPackage[], declared: Map<string, string | null>, state: WatchState): NoticePlan {
  const plan: NoticePlan = { onlyHere: [], fresh: [], nowAdded: [], reached: [] };
  for (const p of userSite) {
    if (inImage(p, declared)) {
      if (state.added.has(p.name)) continue;
      plan.reached.push(p);
      if (state.offered.has(p.name)) plan.nowAdded.push(p);
      continue;
    }
    plan.onlyHere.push(p);
    if (!state.offered.has(p.name) && !state.silenced.has(p.name)) plan.fresh.push(p);
  }
  return plan;
}

/**
 * The message's two lists after this pass: offered and still only in the container (not silenced),
 * and offered and now in the image.
 */
export function noticeLists(userSite: PipPackage[], state: WatchState): { pending: PipPackage[]; added: PipPackage[] } {
  const pending: PipPackage[] = [];
  for (const p of userSite) if (state.offered.has(p.name) && !state.silenced.has(p.name) && !state.added.has(p.name)) pending.push(p);
  const added: PipPackage[] = [];
  for (const [name, version] of state.added) if (state.offered.has(name)) added.push({ name, version });
  return { pending, added: added.sort((a, b) => a.name.localeCompare(b.name)) };
}

/** Hour and minute of `now` in `timeZone`, as minutes after midnight. */
function minuteOfDay(now: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(now));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether `now` falls in the configured quiet hours (a range may run past midnight). */
export function inQuietHours(now: number, cfg: Pick<PackageNotices, 'quiet_hours' | 'timezone'>): boolean {
  if (!cfg.quiet_hours) return false;
  const from = minutes(cfg.quiet_hours.from);
  const to = minutes(cfg.quiet_hours.to);
  if (from === to) return false;
  const m = minuteOfDay(now, cfg.timezone);
  return from < to ? m >= from && m < to : m >= from || m < to;
}

/** The calendar day of `now` in `timeZone` (YYYY-MM-DD): the daily cap counts per day. */
export function dayOf(now: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(now));
}

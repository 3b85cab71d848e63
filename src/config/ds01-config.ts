import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { Ds01Error, ErrorCode } from '../shared/errors.js';

/**
 * The bot's own config file (DS01_CONFIG): who is who, where projects live, where DS01's
 * resource-limits.yaml is. Bot and workers read the same file.
 */
const UserEntry = z.object({
  slack_id: z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id like U0ALICE'),
  user: z.string().regex(/^[a-z_][a-z0-9._-]{0,31}$/, 'a Unix user name'),
  uid: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  gid: z.number().int().min(0).optional(),
  group: z.string().min(1).optional(),
});

const ClockTime = z.string().regex(/^(?:[01][0-9]|2[0-3]):[0-5][0-9]$/, 'a time like 22:00');

/** A time zone the runtime knows (IANA name like Europe/Berlin, or UTC). */
const TimeZone = z
  .string()
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'a time zone like UTC or Europe/Berlin');

/** Package notices: packages pip-installed inside a running container, offered for the image. */
const PackageNotices = z.object({
  /** No notice is sent between these times (in `timezone`); one due then waits for the end. */
  quiet_hours: z.object({ from: ClockTime, to: ClockTime }).optional(),
  timezone: TimeZone.default('UTC'),
  /** Most notices (new or updated) one user gets per day; the rest wait for the next day. */
  daily_cap: z.number().int().min(0).max(1000).default(5),
  /** Groups (from the user list) that get no package notices. */
  off_for_groups: z.array(z.string().min(1)).default([]),
});
export type PackageNotices = z.infer<typeof PackageNotices>;

export const Ds01ConfigSchema = z.object({
  notify_channel: z
    .string()
    .regex(/^[CGD][A-Z0-9]{2,}$/, 'a Slack channel id like C0DS01NOTE')
    .optional(),
  workspaces: z.string().includes('{user}', { message: 'must contain {user}, e.g. /home/{user}/workspace' }),
  limits_file: z.string().min(1),
  user_overrides_file: z.string().min(1).optional(),
  admin_contact: z.string().default('the DS01 admins (#ds01-help)'),
  /**
   * Whether every GPU host sees the same workspaces (NFS homes): then a launch may run on any host.
   * When false, a project runs on the host that has its image (or the one placement picks first).
   */
  workspaces_shared: z.boolean().default(true),
  users: z.array(UserEntry).min(1),
  package_notices: PackageNotices.default({ timezone: 'UTC', daily_cap: 5, off_for_groups: [] }),
});

export type UserEntry = z.infer<typeof UserEntry>;
export interface Ds01Config extends Omit<z.infer<typeof Ds01ConfigSchema>, 'limits_file' | 'user_overrides_file'> {
  /** Absolute path, resolved against the config file's folder. */
  limits_file: string;
  user_overrides_file?: string;
  /** Folder the config was read from, for resolving relative paths. */
  baseDir: string;
}

/** Largest config file read: a few hundred users fit in well under this. */
export const MAX_CONFIG_CHARS = 1_000_000;

export function parseDs01Config(text: string, baseDir: string, source = 'config'): Ds01Config {
  if (text.length > MAX_CONFIG_CHARS) {
    throw new Ds01Error(
      ErrorCode.Config,
      `${source} is larger than ${MAX_CONFIG_CHARS / 1_000_000} MB, too large to be a DS01 bot config; check that DS01_CONFIG names the right file.`,
    );
  }
  let raw: unknown;
  try {
    // `prettyErrors: false`: yaml's pretty errors quote the source around every error, which is
    // quadratic on a file with thousands of errors (2.7 s for 100 kB of unclosed quotes). Only
    // the first error is reported, with its line number counted here, once.
    const doc = parseDocument(text, { prettyErrors: false });
    const first = doc.errors[0];
    if (first) {
      throw new Ds01Error(ErrorCode.Config, `${source} is not valid YAML (line ${lineAt(text, first.pos[0])}): ${first.message.slice(0, 300)}`, { cause: first });
    }
    // toJS refuses more than 100 alias expansions (yaml's default), so an alias bomb stays small.
    raw = doc.toJS();
  } catch (err) {
    if (err instanceof Ds01Error) throw err;
    throw new Ds01Error(ErrorCode.Config, `${source} is not valid YAML: ${(err as Error).message.slice(0, 300)}`, { cause: err });
  }
  const result = Ds01ConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = issue.path.join('.') || '(top level)';
    throw new Ds01Error(ErrorCode.Config, `${source}: key "${key}": ${issue.message}`);
  }
  const cfg = result.data;
  const seen = new Set<string>();
  for (const [i, u] of cfg.users.entries()) {
    if (seen.has(u.slack_id)) throw new Ds01Error(ErrorCode.Config, `${source}: key "users.${i}.slack_id": ${u.slack_id} is listed twice`);
    seen.add(u.slack_id);
  }
  return {
    ...cfg,
    limits_file: path.resolve(baseDir, cfg.limits_file),
    ...(cfg.user_overrides_file ? { user_overrides_file: path.resolve(baseDir, cfg.user_overrides_file) } : {}),
    baseDir,
  };
}

/** 1-based line number of offset `pos` in `text`. */
function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let k = text.indexOf('\n'); k !== -1 && k < pos; k = text.indexOf('\n', k + 1)) line += 1;
  return line;
}

export function loadDs01Config(file: string): Ds01Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Ds01Error(ErrorCode.Config, `cannot read DS01_CONFIG file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseDs01Config(text, path.dirname(path.resolve(file)), file);
}

export function findUserBySlackId(cfg: Ds01Config, slackId: string): UserEntry | undefined {
  return cfg.users.find((u) => u.slack_id === slackId);
}

export function findUserByName(cfg: Ds01Config, user: string): UserEntry | undefined {
  return cfg.users.find((u) => u.user === user);
}

/** The user as jobs and events carry them. */
export function personOf(user: UserEntry): { slackUserId: string; user: string; uid: number } {
  return { slackUserId: user.slack_id, user: user.user, uid: user.uid };
}

export function isAdmin(user: UserEntry): boolean {
  return user.group === 'admin';
}

/** `<workspaces>/<project>` for this user, e.g. /home/alice/workspace/demo. */
export function projectDir(cfg: Ds01Config, user: string, project: string): string {
  return path.resolve(cfg.baseDir, cfg.workspaces.replaceAll('{user}', user), project);
}

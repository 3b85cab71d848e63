import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../shared/logger.js';

/**
 * The audit trail: every action on a container or an image — who asked, for whom, what, where,
 * and how it ended — as one entry in a capped Redis stream and one log line. Admins read it with
 * `/ds01 audit [user]`. Workers write the outcomes of jobs (and the retirements their own checks
 * decide); the bot writes what it refused before anything was queued.
 */
export const AUDIT_STREAM = 'ds01:audit';
/** About this many entries are kept (Redis trims the stream approximately, which is cheap). */
export const AUDIT_KEEP = 10_000;

export const AuditEntry = z.object({
  at: z.iso.datetime(),
  /** Who asked: a DS01 user name, `ds01` for the worker's own checks, or a Slack id when unregistered. */
  who: z.string().max(64),
  /** Whose container or image it is (the owner), when there is one. */
  owner: z.string().max(64).nullable(),
  /** launch, build, retire:<reason>, keepalive, audit… */
  what: z.string().max(64),
  /** The container or image acted on. */
  target: z.string().max(200).nullable(),
  host: z.string().max(64).nullable(),
  result: z.enum(['done', 'refused', 'failed']),
  /** The error code when it did not go through. */
  code: z.string().max(64).nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export async function recordAudit(redis: Redis, log: Logger, entry: Omit<AuditEntry, 'at'> & { at?: string }): Promise<void> {
  const full = AuditEntry.parse({ ...entry, at: entry.at ?? new Date().toISOString() });
  log.info({ audit: full }, 'audit');
  try {
    await redis.xadd(AUDIT_STREAM, 'MAXLEN', '~', String(AUDIT_KEEP), '*', 'e', JSON.stringify(full));
  } catch (err) {
    // The log line above is the fallback record; an action never fails because Redis could not audit it.
    log.warn({ err: (err as Error).message }, 'audit entry not stored in Redis');
  }
}

/** The newest entries, newest first; only those by or for `user` when given. */
export async function readAudit(redis: Redis, opts: { user?: string; count?: number } = {}): Promise<AuditEntry[]> {
  const count = opts.count ?? 20;
  // Read a bounded window and filter here: no per-user index to keep in step.
  const rows = await redis.xrevrange(AUDIT_STREAM, '+', '-', 'COUNT', opts.user ? 2000 : count);
  const out: AuditEntry[] = [];
  for (const [, fields] of rows) {
    const i = fields.indexOf('e');
    const parsed = AuditEntry.safeParse(JSON.parse(fields[i + 1] ?? 'null'));
    if (!parsed.success) continue;
    if (opts.user && parsed.data.who !== opts.user && parsed.data.owner !== opts.user) continue;
    out.push(parsed.data);
    if (out.length >= count) break;
  }
  return out;
}

import type { UserEntry } from '../config/ds01-config.js';
import { RETIRE_CLAIM_TTL_S, RedisKey } from '../contract/queues.js';
import { containerName } from '../ds01/naming.js';
import { claim, release } from '../shared/claim.js';
import type { BotDeps } from './deps.js';
import { recentRetirements } from './recent-retirements.js';

/**
 * Before the bot queues a retirement it claims the container, by its engine id, in Redis (the
 * same key the worker checks before it stops anything). Whoever asks second (a double click, the
 * identical click on a second bot replica, [Retire anyway] clicked twice, a click on a stale App
 * Home) is told it is already happening, or already happened, and nothing is queued.
 */
export type RetireTarget =
  | { kind: 'claimed'; hostId: string; containerId: string | undefined; release: () => Promise<void> }
  | { kind: 'retiring'; hostId: string }
  | { kind: 'retired'; hostId: string; at: string | null }
  | { kind: 'none' };

/** A retirement older than this is history, not "already done": the project may be asked about afresh. */
const ALREADY_RETIRED_WINDOW_MS = 3600_000;

export async function claimRetirement(deps: BotDeps, owner: UserEntry, project: string, requestId: string, onlyHost?: string): Promise<RetireTarget> {
  const hosts = (await deps.hosts.online()).filter((h) => !onlyHost || h.hostId === onlyHost);
  for (const h of hosts) {
    const c = h.containers.find((x) => x.user === owner.user && x.project === project);
    if (!c) continue;
    const key = RedisKey.retireClaim(h.hostId, c.id ?? c.name);
    if (!(await claim(deps.redis, key, requestId, RETIRE_CLAIM_TTL_S))) return { kind: 'retiring', hostId: h.hostId };
    return { kind: 'claimed', hostId: h.hostId, containerId: c.id, release: () => release(deps.redis, key, requestId) };
  }
  // Not there (any more): retired a moment ago? The worker marks the name as it removes it; the
  // owner's recent retirements say when, once the outbox has told them.
  const recent = (await recentRetirements(deps.redis, owner.slack_id)).find(
    (r) => r.project === project && Date.now() - Date.parse(r.at) < ALREADY_RETIRED_WINDOW_MS && (!onlyHost || r.host === onlyHost),
  );
  if (recent) return { kind: 'retired', hostId: recent.host, at: recent.at };
  for (const h of hosts) {
    if ((await deps.redis.get(RedisKey.retiredName(h.hostId, containerName(project, owner.uid)))) !== null) return { kind: 'retired', hostId: h.hostId, at: null };
  }
  return { kind: 'none' };
}

/** What the second asker reads; `whose` is "" for the owner, "alice's " for an admin. */
export function alreadyText(t: Extract<RetireTarget, { kind: 'retiring' | 'retired' }>, project: string, whose = ''): string {
  if (t.kind === 'retiring') {
    return `${whose}\`${project}\` on ${t.hostId} is already being retired (asked a moment ago), so I queued nothing new. The outcome arrives in one DM.`;
  }
  const when = t.at ? ` at ${t.at.slice(11, 16)} UTC` : '';
  return `${whose}\`${project}\` was already retired on ${t.hostId}${when}, so there was nothing more to do.${whose ? '' : ` \`/ds01 launch ${project}\` starts it again.`}`;
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ds01Error, ErrorCode } from '../shared/errors.js';

/**
 * Jobs and events are signed: Redis carries them, but it is not the root of trust. Anyone who
 * can write to Redis (a misconfigured network, a user's container that can reach it) could
 * otherwise queue "retire alice's container" in alice's name. The bot and the workers share a
 * secret; each side signs what it sends (HMAC-SHA256 over the payload's canonical JSON, in a
 * `sig` field beside it) and drops, with a log line, whatever arrives unsigned or altered.
 */
export const SIG_FIELD = 'sig';
const MIN_SECRET = 32;

/** JSON with object keys sorted at every level, so both sides hash the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function mac(secret: string, payload: unknown): string {
  return createHmac('sha256', secret).update(canonicalJson(payload)).digest('hex');
}

export function sign<T extends object>(secret: string, payload: T): T & { sig: string } {
  return { ...payload, [SIG_FIELD]: mac(secret, payload) } as T & { sig: string };
}

/** The payload without its signature when the signature is right; null when missing or wrong. */
export function verify(secret: string, data: unknown): Record<string, unknown> | null {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return null;
  const { [SIG_FIELD]: sig, ...payload } = data as Record<string, unknown>;
  if (typeof sig !== 'string' || !/^[0-9a-f]{64}$/.test(sig)) return null;
  const want = Buffer.from(mac(secret, payload), 'hex');
  const got = Buffer.from(sig, 'hex');
  return want.length === got.length && timingSafeEqual(want, got) ? payload : null;
}

/**
 * The shared secret: `DS01_JOB_SECRET_FILE` (a file only the bot and workers can read, e.g. a
 * Docker secret) or `DS01_JOB_SECRET`. At least 32 characters (`openssl rand -hex 32`).
 */
export function loadJobSecret(env: NodeJS.ProcessEnv = process.env): string {
  let secret = env.DS01_JOB_SECRET ?? '';
  if (env.DS01_JOB_SECRET_FILE) {
    try {
      secret = readFileSync(env.DS01_JOB_SECRET_FILE, 'utf8').trim();
    } catch {
      throw new Ds01Error(ErrorCode.Config, `DS01_JOB_SECRET_FILE: cannot read ${env.DS01_JOB_SECRET_FILE}`);
    }
  }
  if (secret.length < MIN_SECRET) {
    throw new Ds01Error(
      ErrorCode.Config,
      `DS01_JOB_SECRET (or DS01_JOB_SECRET_FILE) must hold a shared secret of at least ${MIN_SECRET} characters, the same for the bot and every worker; make one with \`openssl rand -hex 32\`.`,
    );
  }
  return secret;
}

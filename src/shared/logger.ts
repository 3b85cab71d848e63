import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * One pino logger per process. Secrets never reach the log, whatever shape the logged object has
 * (a Web API error carries the request's `Authorization: Bearer xoxb-…` header deep inside it):
 *  - redact paths remove the fields we know hold secrets, and
 *  - every finished line is scrubbed before it is written: anything shaped like a Slack token
 *    (`xoxb-…`, `xoxp-…`, `xapp-…`, …) and the literal values of the configured secrets
 *    (SLACK_* tokens, the signing secret, the Redis password, anything passed to `addLogSecret`).
 */

/** Slack token shapes: bot, user, app-level, refresh, legacy and configuration tokens. Linear: one class, no nesting. */
const SLACK_TOKEN = /(?:xox[abeoprs]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]+/g;
const CENSOR = '[redacted]';
/** Environment variables whose values are secrets wherever they appear. */
const SECRET_ENV = ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'DS01_SIGNING_SECRET', 'DS01_JOB_SECRET', 'REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD'];
/** Shorter values would scrub ordinary words; real secrets are far longer. */
const MIN_SECRET_LENGTH = 6;

const secrets = new Set<string>();

/** Adds a value that must never appear in a log line (also in its JSON-escaped form). */
export function addLogSecret(value: string | undefined): void {
  if (!value || value.length < MIN_SECRET_LENGTH) return;
  secrets.add(value);
  const escaped = JSON.stringify(value).slice(1, -1);
  if (escaped !== value) secrets.add(escaped);
}

function secretsFromEnv(env: NodeJS.ProcessEnv): void {
  for (const k of SECRET_ENV) addLogSecret(env[k]);
  for (const k of ['REDIS_URL']) {
    const url = env[k];
    if (!url) continue;
    try {
      const u = new URL(url);
      addLogSecret(decodeURIComponent(u.password));
      addLogSecret(u.password);
    } catch {
      /* not a URL: the env check reports it */
    }
  }
}

/** The scrub applied to every line; exported for tests of its own. */
export function scrubSecrets(line: string): string {
  let out = line.replace(SLACK_TOKEN, CENSOR);
  // Longest first, so a secret that contains another is removed whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (out.includes(s)) out = out.split(s).join(CENSOR);
  return out;
}

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', env: NodeJS.ProcessEnv = process.env, destination?: DestinationStream): Logger {
  secretsFromEnv(env);
  const options: LoggerOptions = {
    name,
    level,
    redact: {
      paths: [
        'token',
        '*.token',
        'botToken',
        'appToken',
        'signingSecret',
        '*.botToken',
        '*.appToken',
        '*.signingSecret',
        'env.SLACK_BOT_TOKEN',
        'env.SLACK_APP_TOKEN',
        'env.SLACK_SIGNING_SECRET',
        'redisUrl',
        '*.redisUrl',
        'headers.authorization',
        'req.headers.authorization',
        '*.headers.authorization',
        '*.headers.Authorization',
      ],
      censor: CENSOR,
    },
    hooks: { streamWrite: scrubSecrets },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };

import { pino, type Logger } from 'pino';

/**
 * One pino logger per process. Secrets never reach the log: Slack tokens, signing secrets and
 * Redis passwords are redacted wherever they appear in a logged object.
 */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
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
      ],
      censor: '[redacted]',
    },
  });
}

export type { Logger };

import { z } from 'zod';
import { RedisEnv } from './shared/redis-client.js';
import { DS01_CONFIG_MISSING } from './config/startup.js';

/** The bot's environment (operator interface: see README "Configuration"). */
const BotEnv = z.object({
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'SLACK_BOT_TOKEN must be a bot token (xoxb-…)').optional(),
  SLACK_SIGNING_SECRET: z.string().min(8).optional(),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'SLACK_APP_TOKEN must be an app-level token (xapp-…)').optional(),
  SLACK_API_URL: z.string().url().default('https://slack.com/api/'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  ...RedisEnv.shape,
  DS01_CONFIG: z.string({ error: DS01_CONFIG_MISSING }).min(1, DS01_CONFIG_MISSING),
  /** `npm run dev` sets this: with no Slack credentials at all, run the local console instead of Slack. */
  DS01_LOCAL_CONSOLE: z.enum(['0', '1']).default('0'),
  /** Socket Mode: serve /healthz, /readyz and /metrics on this port (in HTTP mode they share PORT). */
  DS01_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** Address the health and metrics endpoints bind to in Socket Mode; loopback unless set (compose sets 0.0.0.0). */
  DS01_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
});
export type BotEnv = z.infer<typeof BotEnv>;

export type SlackMode =
  | { kind: 'http'; botToken: string; signingSecret: string }
  | { kind: 'socket'; botToken: string; appToken: string; signingSecret?: string }
  | { kind: 'local'; missing: string[] };

export function loadBotEnv(env: NodeJS.ProcessEnv = process.env): BotEnv {
  // Empty strings (from a copied .env template) mean "not set".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const r = BotEnv.safeParse(cleaned);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const key = i.path.join('.');
    throw new Error(i.message.startsWith(key) ? i.message : `${key}: ${i.message}`);
  }
  return r.data;
}

/**
 * Which way the bot talks to Slack. Fails closed: a partial Slack configuration (a bot token without a
 * signing secret or app token, or the reverse) is a start-up error naming what is missing, and the
 * local console runs only when asked for (`DS01_LOCAL_CONSOLE=1`, which `npm run dev` sets) with no
 * Slack variable set at all. Throws an Error whose message is the sentence for the admin.
 */
export function slackMode(env: BotEnv): SlackMode {
  const { SLACK_BOT_TOKEN: bot, SLACK_APP_TOKEN: app, SLACK_SIGNING_SECRET: secret } = env;
  const anySlack = Boolean(bot || app || secret);
  if (env.DS01_LOCAL_CONSOLE === '1') {
    if (anySlack) {
      const set = ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET'].filter((k) => env[k as keyof BotEnv]);
      throw new Error(
        `DS01_LOCAL_CONSOLE=1 asks for the local console, but ${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set too: unset DS01_LOCAL_CONSOLE to connect to Slack, or unset the Slack variables to use the console`,
      );
    }
    return { kind: 'local', missing: ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)'] };
  }
  if (bot && app) return { kind: 'socket', botToken: bot, appToken: app, ...(secret ? { signingSecret: secret } : {}) };
  if (bot && secret) return { kind: 'http', botToken: bot, signingSecret: secret };
  if (bot) {
    throw new Error(
      'SLACK_BOT_TOKEN is set but SLACK_APP_TOKEN (Socket Mode) and SLACK_SIGNING_SECRET (HTTP mode) are both missing: set one of them, so the bot knows how Slack reaches it',
    );
  }
  if (anySlack) {
    throw new Error(`${app ? 'SLACK_APP_TOKEN' : 'SLACK_SIGNING_SECRET'} is set but SLACK_BOT_TOKEN is missing: set it to the app's Bot User OAuth Token (xoxb-…)`);
  }
  throw new Error(
    'no Slack credentials: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode), or run `npm run dev` to try the bot on a local console without Slack',
  );
}

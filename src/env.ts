import { z } from 'zod';

/** The bot's environment (operator interface: see README "Configuration"). */
const BotEnv = z.object({
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'SLACK_BOT_TOKEN must be a bot token (xoxb-…)').optional(),
  SLACK_SIGNING_SECRET: z.string().min(8).optional(),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'SLACK_APP_TOKEN must be an app-level token (xapp-…)').optional(),
  SLACK_API_URL: z.string().url().default('https://slack.com/api/'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  DS01_CONFIG: z.string().min(1, 'DS01_CONFIG must name the YAML config file'),
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
    throw new Error(`bot environment: ${i.path.join('.')}: ${i.message}`);
  }
  return r.data;
}

/** HTTP when a signing secret and no app token; Socket Mode with an app token; otherwise local. */
export function slackMode(env: BotEnv): SlackMode {
  if (env.SLACK_BOT_TOKEN && env.SLACK_APP_TOKEN) {
    return { kind: 'socket', botToken: env.SLACK_BOT_TOKEN, appToken: env.SLACK_APP_TOKEN, ...(env.SLACK_SIGNING_SECRET ? { signingSecret: env.SLACK_SIGNING_SECRET } : {}) };
  }
  if (env.SLACK_BOT_TOKEN && env.SLACK_SIGNING_SECRET) {
    return { kind: 'http', botToken: env.SLACK_BOT_TOKEN, signingSecret: env.SLACK_SIGNING_SECRET };
  }
  const missing: string[] = [];
  if (!env.SLACK_BOT_TOKEN) missing.push('SLACK_BOT_TOKEN');
  if (!env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) missing.push('SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)');
  return { kind: 'local', missing };
}

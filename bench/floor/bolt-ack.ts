import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { Registry } from 'prom-client';
import { createSlackHttpServer } from '../../src/slack/http-server.js';
import { createLogger } from '../../src/shared/logger.js';

/**
 * The ack floor of `npm run bench`: a bare Bolt app of the same Bolt version, the same HTTPReceiver
 * behind the same body-capping node:http front (src/slack/http-server.ts) as the bot, whose only
 * listener acks `/ds01`. No Redis, no metrics middleware, no work after the ack. Env: PORT,
 * SLACK_SIGNING_SECRET, SLACK_API_URL (the simulator, for Bolt's token check).
 */
const log = createLogger('bench-floor');
const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (...m: unknown[]) => log.error({ bolt: m.map(String).join(' ') }),
  setLevel: () => undefined,
  getLevel: () => LogLevel.INFO,
  setName: () => undefined,
};
const receiver = new HTTPReceiver({ signingSecret: env('SLACK_SIGNING_SECRET'), endpoints: ['/slack/events'], logger: silent });
const app = new App({ token: 'xoxb-bench-floor', receiver, clientOptions: { slackApiUrl: env('SLACK_API_URL') }, logger: silent });
app.command('/ds01', async ({ ack }) => {
  await ack();
});
const server = createSlackHttpServer({ receiver, ops: { ready: async () => null, metrics: new Registry() }, log });
server.listen(Number(env('PORT')), '127.0.0.1', () => log.info('bench floor ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

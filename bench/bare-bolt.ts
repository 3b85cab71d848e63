import { App, LogLevel } from '@slack/bolt';

/**
 * The baseline for the ack benchmark: a bare Bolt app (HTTP receiver, request signature check) whose
 * `/ds01` handler acks at once with a short text. Whatever the DS01 bot spends per request beyond this
 * is its own.
 */
const app = new App({
  token: process.env.SLACK_BOT_TOKEN ?? 'xoxb-bench',
  signingSecret: process.env.SLACK_SIGNING_SECRET ?? '',
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL ?? 'http://127.0.0.1:9/' },
  logLevel: LogLevel.ERROR,
});
app.command('/ds01', async ({ ack }) => {
  await ack({ response_type: 'ephemeral', text: 'ok' });
});
await app.start(Number(process.env.PORT));
console.log('bare bolt ready');

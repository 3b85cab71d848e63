import { randomBytes } from 'node:crypto';
import { loadStartup } from './config/startup.js';
import { loadBotEnv, slackMode } from './env.js';
import { startLocalConsole } from './local/console.js';
import { SlackSimulator } from './local/slack-simulator.js';
import { startBot, type RunningBot } from './app.js';
import { createLogger } from './shared/logger.js';

/**
 * `npm run bot`. HTTP mode with SLACK_SIGNING_SECRET, Socket Mode with SLACK_APP_TOKEN. With no
 * Slack tokens it still runs: a local console stands in for Slack, so an admin can try
 * `/ds01 launch demo` against the workers before the Slack app exists, and it says what is missing.
 */
async function main(): Promise<void> {
  const log = createLogger('ds01-bot');
  const { env, jobSecret, config, limits, userOverrides } = loadStartup(log, () => loadBotEnv());
  const mode = slackMode(env);
  let bot: RunningBot;
  let sim: SlackSimulator | undefined;
  if (mode.kind === 'local') {
    log.warn({ missing: mode.missing }, 'No Slack credentials: running with a local console instead of Slack. Set the missing variables to connect to your workspace.');
    sim = new SlackSimulator();
    await sim.start();
    const signingSecret = randomBytes(16).toString('hex');
    bot = await startBot({
      env: { ...env, SLACK_API_URL: sim.apiUrl },
      transport: { kind: 'http', botToken: 'xoxb-local-console', signingSecret, port: env.PORT },
      config,
      limits,
      ...(userOverrides ? { userOverrides } : {}),
      jobSecret,
      log,
    });
    startLocalConsole({ sim, port: env.PORT, signingSecret, config, missing: mode.missing });
  } else {
    bot = await startBot({
      env,
      transport: mode.kind === 'http' ? { kind: 'http', botToken: mode.botToken, signingSecret: mode.signingSecret, port: env.PORT } : { kind: 'socket', botToken: mode.botToken, appToken: mode.appToken },
      config,
      limits,
      ...(userOverrides ? { userOverrides } : {}),
      jobSecret,
      log,
    });
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await bot.stop();
    await sim?.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

void main();

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadStartup } from './config/startup.js';
import { loadBotEnv, slackMode } from './env.js';
import { startLocalConsole } from './local/console.js';
import { SlackSimulator } from './local/slack-simulator.js';
import { startBot, type RunningBot } from './app.js';
import { createLogger } from './shared/logger.js';
import { applyV8Flags } from './shared/v8-flags.js';

// Before the first request: the bot's V8 settings (v8-flags.ts says why).
const v8Flags = applyV8Flags();

/**
 * `npm run bot` / `npm start`. HTTP mode with SLACK_SIGNING_SECRET, Socket Mode with SLACK_APP_TOKEN.
 * A partial Slack configuration stops start-up with a sentence naming what is missing. The local
 * console (a stand-in for Slack, so an admin can try `/ds01 launch demo` before the Slack app
 * exists) runs only when asked for with DS01_LOCAL_CONSOLE=1, which `npm run dev` sets.
 */
/**
 * On the local console the log goes to a file, so it never interleaves with the conversation; only
 * a fatal start-up line also reaches stderr.
 */
const consoleMode = process.env.DS01_LOCAL_CONSOLE === '1';
const logFile = consoleMode ? (process.env.DS01_LOG_FILE ?? path.join(os.tmpdir(), `ds01-bot-console-${process.pid}.log`)) : undefined;
const STOP_TIMEOUT_MS = 10_000;
const log = logFile
  ? createLogger(
      'ds01-bot',
      undefined,
      undefined,
      pino.multistream([
        { level: 'trace', stream: pino.destination({ dest: logFile, mkdir: true, sync: true }) },
        { level: 'fatal', stream: process.stderr },
      ]),
    )
  : createLogger('ds01-bot');

async function main(): Promise<void> {
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled promise rejection'));
  const { env, jobSecret, config, limits, userOverrides } = loadStartup(log, () => {
    const e = loadBotEnv();
    return { ...e, mode: slackMode(e) };
  });
  const mode = env.mode;
  let bot: RunningBot;
  let sim: SlackSimulator | undefined;
  if (mode.kind === 'local') {
    log.warn(
      { missing: mode.missing },
      'DS01_LOCAL_CONSOLE=1: running with a local console instead of Slack. Set the Slack variables (and unset DS01_LOCAL_CONSOLE) to connect to your workspace.',
    );
    sim = new SlackSimulator();
    await sim.start();
    const signingSecret = randomBytes(16).toString('hex');
    bot = await startBot({
      env: { ...env, SLACK_API_URL: sim.apiUrl },
      transport: { kind: 'http', botToken: 'xoxb-local-console', signingSecret, port: env.PORT, host: '127.0.0.1' },
      config,
      limits,
      ...(userOverrides ? { userOverrides } : {}),
      jobSecret,
      log,
      v8Flags,
    });
    startLocalConsole({ sim, port: env.PORT, signingSecret, config, missing: mode.missing, ...(logFile ? { logFile } : {}), onQuit: () => void shutdown('stdin closed') });
  } else {
    const ops = env.DS01_METRICS_PORT ? { opsPort: env.DS01_METRICS_PORT, opsHost: env.DS01_METRICS_HOST } : {};
    bot = await startBot({
      env,
      transport:
        mode.kind === 'http'
          ? { kind: 'http', botToken: mode.botToken, signingSecret: mode.signingSecret, port: env.PORT, ...ops }
          : { kind: 'socket', botToken: mode.botToken, appToken: mode.appToken, ...ops },
      config,
      limits,
      ...(userOverrides ? { userOverrides } : {}),
      jobSecret,
      log,
      v8Flags,
    });
  }
  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // The bot holds no work of its own (jobs and undelivered events wait in Redis), so a stop that
    // hangs (Redis unreachable) must not keep it alive until the supervisor kills it.
    setTimeout(() => {
      log.warn({ afterMs: STOP_TIMEOUT_MS }, 'stopping took too long (is Redis reachable?); exiting anyway');
      process.exit(1);
    }, STOP_TIMEOUT_MS).unref();
    await bot.stop();
    await sim?.stop();
    process.exit(0);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: Error) => {
  // Slack refusing the tokens, the port being taken: one line, then stop (the supervisor restarts us).
  log.fatal({ err: err.message }, 'cannot start the bot');
  process.exit(1);
});

import { describe, expect, it } from 'vitest';
import { loadBotEnv, slackMode } from '../../src/env.js';

/** Fails closed: which Slack variables start which mode, and which stop start-up with a sentence. */
const BOT = 'xoxb-1-2-abc';
const APP = 'xapp-1-A0-3-def';
const SECRET = 'signing-secret-123';
const mode = (env: Record<string, string>) => slackMode(loadBotEnv({ DS01_CONFIG: '/etc/ds01-chatops/config.yaml', ...env }));

describe('choosing how the bot talks to Slack', () => {
  it('a bot token with an app token is Socket Mode; with a signing secret, HTTP mode', () => {
    expect(mode({ SLACK_BOT_TOKEN: BOT, SLACK_APP_TOKEN: APP }).kind).toBe('socket');
    expect(mode({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SECRET }).kind).toBe('http');
    expect(mode({ SLACK_BOT_TOKEN: BOT, SLACK_APP_TOKEN: APP, SLACK_SIGNING_SECRET: SECRET }).kind).toBe('socket');
  });

  it('a bot token alone (or with an empty secret, as compose passes an unset variable) stops start-up naming what is missing', () => {
    for (const env of [{ SLACK_BOT_TOKEN: BOT } as Record<string, string>, { SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: '', SLACK_APP_TOKEN: '' }]) {
      expect(() => mode(env)).toThrow(/SLACK_BOT_TOKEN is set but SLACK_APP_TOKEN \(Socket Mode\) and SLACK_SIGNING_SECRET \(HTTP mode\) are both missing/);
    }
  });

  it('an app token or a signing secret without a bot token stops start-up naming SLACK_BOT_TOKEN', () => {
    expect(() => mode({ SLACK_APP_TOKEN: APP })).toThrow(/SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is missing/);
    expect(() => mode({ SLACK_SIGNING_SECRET: SECRET })).toThrow(/SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is missing/);
  });

  it('nothing set stops start-up too: the local console runs only when asked for', () => {
    expect(() => mode({})).toThrow(/no Slack credentials: .*or run `npm run dev`/);
    expect(mode({ DS01_LOCAL_CONSOLE: '1' }).kind).toBe('local');
  });

  it('asking for the console while Slack variables are set is refused, not guessed', () => {
    expect(() => mode({ DS01_LOCAL_CONSOLE: '1', SLACK_BOT_TOKEN: BOT })).toThrow(/DS01_LOCAL_CONSOLE=1 asks for the local console, but SLACK_BOT_TOKEN is set too/);
  });

  it('a missing DS01_CONFIG is one sentence naming it', () => {
    expect(() => loadBotEnv({ SLACK_BOT_TOKEN: BOT, SLACK_APP_TOKEN: APP })).toThrow(/^DS01_CONFIG is not set: point it at the DS01 ChatOps config file/);
  });
});

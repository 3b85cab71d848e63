import { describe, expect, it } from 'vitest';
import { postToApp, slashCommandBody } from '../../src/local/slack-signing.js';
import { freePort, startProcess } from '../support/processes.js';
import { redisUrl, World } from '../support/services.js';

/**
 * Secrets never reach a log, whatever the error. A Web API call that fails at the network level
 * throws an error that carries the request it made, `Authorization: Bearer xoxb-…` included; the
 * bot logs such errors, and the log must still hold none of the bot token or the signing secret.
 */
describe('secrets in logs', () => {
  it('Slack unreachable: the whole bot log holds neither the bot token nor the signing secret', async () => {
    const world = new World();
    const port = await freePort();
    const slackApi = await freePort(); // nothing listens there: every Web API call fails to connect
    const token = 'xoxb-2024-4096-SeCrEtBoTtOkEnVaLuE';
    const secret = 'signing-SeCrEt-8f3a9c1d2e';
    const bot = startProcess('bot', 'src/main.ts', {
      SLACK_BOT_TOKEN: token,
      SLACK_SIGNING_SECRET: secret,
      SLACK_API_URL: `http://127.0.0.1:${slackApi}/api/`,
      PORT: String(port),
      REDIS_URL: redisUrl(),
      DS01_CONFIG: world.configFile,
      LOG_LEVEL: 'debug',
    });
    try {
      await bot.waitForLine(/DS01 bot ready/);
      // The token check Bolt runs at start-up fails with the request (and its header) attached.
      await bot.waitForLine(/ECONNREFUSED[\s\S]*"msg":"unhandled promise rejection"/);
      const url = `http://127.0.0.1:${port}/slack/events`;
      const slash = slashCommandBody({ text: 'status', user_id: 'U0ALICE', response_url: `http://127.0.0.1:${slackApi}/respond` });
      expect((await postToApp(url, secret, slash, 'application/x-www-form-urlencoded')).status).toBe(200);
      const home = {
        type: 'event_callback',
        team_id: 'T0DS01',
        api_app_id: 'A0DS01BOT',
        event_id: 'Ev0SECRETS',
        event_time: 1,
        event: { type: 'app_home_opened', user: 'U0ALICE', tab: 'home', channel: 'D0ALICE' },
      };
      expect((await postToApp(url, secret, JSON.stringify(home), 'application/json')).status).toBe(200);
      await bot.waitForLine(/slack_bolt_authorization_error/);
    } finally {
      await bot.stop();
    }
    const log = bot.output.join('\n');
    // Nothing secret in any line …
    expect(log).not.toContain(token);
    expect(log).not.toContain('SeCrEtBoTtOkEnVaLuE');
    expect(log).not.toContain(secret);
    expect(log).not.toMatch(/xoxb-\d/);
    // … while the failures were logged, with their cause.
    expect(log).toMatch(/"level":50.*ECONNREFUSED/);
  });
});

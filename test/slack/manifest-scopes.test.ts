import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { App } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { BotDeps } from '../../src/slack/deps.js';
import { registerListeners } from '../../src/slack/listeners/index.js';
import { REPO_ROOT } from '../support/paths.js';

/**
 * manifest.yml asks for exactly the scopes the code uses: derived here from the listeners the app
 * really registers and the Web API methods the code really calls, then compared both ways.
 */

/** Bot scope (and Events API subscription) each registered listener needs. */
const EVENT_NEEDS: Record<string, { scopes: string[]; botEvents: string[] }> = {
  // DMs to the bot (the FAQ): the message.im subscription, which im:history grants.
  message: { scopes: ['im:history'], botEvents: ['message.im'] },
  // The App Home tab: needs no scope, only the subscription.
  app_home_opened: { scopes: [], botEvents: ['app_home_opened'] },
};
/** Bot scope each Web API method needs (api.slack.com/methods). Methods without one map to []. */
const METHOD_NEEDS: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'views.open': [],
  'views.publish': [],
  'views.update': [],
  'views.push': [],
  'auth.test': [],
};

function registered(): { commands: string[]; events: string[]; actions: number; views: number } {
  // The bot registers every listener on its router, installed as one Bolt middleware.
  const app = { client: {}, use: () => undefined };
  return registerListeners(app as unknown as App, { hosts: { onQueueChange: () => undefined } } as unknown as BotDeps).registered();
}

/** Every `client.<group>.<method>(` call in the bot's source. */
function webApiMethods(): Set<string> {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/\bclient\.([a-z]+)\.([a-zA-Z]+)\(/g)) found.add(`${m[1]}.${m[2]}`);
    }
  };
  walk(path.join(REPO_ROOT, 'src'));
  return found;
}

const manifest = parseYaml(readFileSync(path.join(REPO_ROOT, 'manifest.yml'), 'utf8')) as {
  features: { slash_commands: Array<{ command: string }> };
  oauth_config: { scopes: { bot: string[] } };
  settings: { socket_mode_enabled: boolean; interactivity: { is_enabled: boolean }; event_subscriptions: { bot_events: string[] } };
};

describe('manifest.yml', () => {
  const listeners = registered();
  const methods = webApiMethods();

  it('knows every listener and Web API method the code uses (a new one must be mapped to its scope here)', () => {
    for (const e of listeners.events) expect(Object.keys(EVENT_NEEDS), `event ${e}`).toContain(e);
    for (const m of methods) expect(Object.keys(METHOD_NEEDS), `method ${m}`).toContain(m);
    expect(methods.has('chat.postMessage')).toBe(true);
  });

  it('asks for exactly the bot scopes the code needs', () => {
    const needed = new Set<string>();
    if (listeners.commands.length) needed.add('commands');
    for (const e of listeners.events) for (const s of EVENT_NEEDS[e]!.scopes) needed.add(s);
    for (const m of methods) for (const s of METHOD_NEEDS[m]!) needed.add(s);
    // Retirements are announced in the configured notify_channel, which the bot may not be in.
    if (needed.has('chat:write')) needed.add('chat:write.public');
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
  });

  it('subscribes to exactly the events the code listens to, declares its slash command, and uses Socket Mode', () => {
    const events = new Set(listeners.events.flatMap((e) => EVENT_NEEDS[e]!.botEvents));
    expect([...manifest.settings.event_subscriptions.bot_events].sort()).toEqual([...events].sort());
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(listeners.commands);
    expect(manifest.settings.interactivity.is_enabled).toBe(listeners.actions + listeners.views > 0);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });
});

import { createInterface } from 'node:readline';
import type { Ds01Config } from '../config/ds01-config.js';
import type { RecordedCall, SlackSimulator } from './slack-simulator.js';
import { postToApp, slashCommandBody } from './slack-signing.js';

/**
 * The local console: with no Slack credentials, each line typed on stdin is sent to the real bot
 * as a signed `/ds01` slash command from the first user in the config, and what the bot says to
 * "Slack" is printed as text.
 */
export function startLocalConsole(opts: { sim: SlackSimulator; port: number; signingSecret: string; config: Ds01Config; missing: string[] }): void {
  const user = opts.config.users[0]!;
  const out = (s: string) => process.stdout.write(s + '\n');
  opts.sim.onCall = (c) => {
    const text = describe(c);
    if (text) out(text);
  };
  out('');
  out('DS01 bot — local console (no Slack connection).');
  out(`Missing to connect to Slack: ${opts.missing.join(', ')}.`);
  out(`Type a /ds01 command as ${user.user} (${user.slack_id}), e.g. "launch demo", "status", "gpus", "help". Ctrl-D to quit.`);
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    const text = line.replace(/^\/ds01\s*/, '').trim();
    const body = slashCommandBody({ text, user_id: user.slack_id, user_name: user.user, response_url: opts.sim.responseUrl() });
    postToApp(`http://127.0.0.1:${opts.port}/slack/events`, opts.signingSecret, body, 'application/x-www-form-urlencoded')
      .then((r) => {
        if (r.body) {
          try {
            const parsed = JSON.parse(r.body) as { text?: string };
            if (parsed.text) out(`bot › ${parsed.text}`);
          } catch {
            /* empty ack */
          }
        }
      })
      .catch((err: Error) => out(`(could not reach the bot: ${err.message})`));
  });
}

function describe(c: RecordedCall): string | null {
  const text = typeof c.args.text === 'string' ? c.args.text : '';
  switch (c.method) {
    case 'chat.postMessage':
      return `bot → DM ${String(c.args.channel)} › ${text}`;
    case 'chat.update':
      return `bot ↻ ${text}`;
    case 'response_url':
      return `bot › ${text}`;
    case 'auth.test':
      return null;
    default:
      return `bot called ${c.method}`;
  }
}

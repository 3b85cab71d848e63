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
            const parsed = JSON.parse(r.body) as Record<string, unknown>;
            if (parsed.text || parsed.blocks) out(`bot › ${readable(parsed)}`);
          } catch {
            /* empty ack */
          }
        }
      })
      .catch((err: Error) => out(`(could not reach the bot: ${err.message})`));
  });
}

/** A message as a person would read it: the blocks' text when there are blocks, else the text. */
function readable(args: Record<string, unknown>): string {
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'button' && typeof o.text === 'object') return void parts.push(`[${String((o.text as { text?: string }).text)}]`);
      for (const [k, x] of Object.entries(o)) {
        if (k === 'text' && typeof x === 'string') parts.push(x);
        else walk(x);
      }
    }
  };
  walk(args.blocks);
  return parts.length ? parts.join('\n      ') : String(args.text ?? '');
}

function describe(c: RecordedCall): string | null {
  const text = typeof c.args.text === 'string' ? c.args.text : '';
  switch (c.method) {
    case 'chat.postMessage':
      return `bot → ${String(c.args.channel)} › ${readable(c.args)}`;
    case 'chat.update':
      // Progress steps as one line each; the final message in full.
      return /running|retired|did not|failed|built/i.test(text) ? `bot ↻ ${readable(c.args)}` : `bot ↻ ${text}`;
    case 'response_url':
      return `bot › ${readable(c.args)}`;
    case 'auth.test':
      return null;
    default:
      return `bot called ${c.method}`;
  }
}

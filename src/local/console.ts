import { createInterface } from 'node:readline';
import type { Ds01Config } from '../config/ds01-config.js';
import type { RecordedCall, SlackSimulator } from './slack-simulator.js';
import { interactionBody, postToApp, slashCommandBody } from './slack-signing.js';
import { modalQuestions, modalState, renderBlocks, type ButtonChoice, type ModalQuestion } from './text-render.js';

/**
 * The local console: Slack's shell adapter. The real bot runs against the in-repo Slack simulator;
 * what a user types goes to it as Slack would send it, signed, through the same handlers:
 *   - `launch demo`, `/ds01 status`, `help …`  → a `/ds01` slash command
 *   - a number                                 → presses that numbered button
 *   - `home`                                   → opens the App Home tab
 *   - any other text                           → a DM to the bot (the FAQ)
 * What the bot says to "Slack" is printed as text: blocks in order, buttons as numbered choices, and
 * a modal as questions to answer, then submitted. Ctrl-D quits. The person is the first user in the
 * config file.
 */
const SUBCOMMAND = /^(launch|retire|image-update|status|gpus|limits|keepalive|help)(\s|$)/i;
const TEAM = { id: 'T0DS01', domain: 'ds01' };
const MAX_LINE = 4000;

interface Choice {
  button: ButtonChoice;
  /** Where the button was: a message (channel + ts) or a view (App Home, modal). */
  where: { kind: 'message'; channel: string; ts: string; text: string; blocks: unknown[] } | { kind: 'view'; viewId: string; viewType: string };
}

interface OpenModal {
  viewId: string;
  view: Record<string, unknown>;
  questions: ModalQuestion[];
  answers: string[];
  lines: string[]; // the multi-line answer being typed
}

export function startLocalConsole(opts: {
  sim: SlackSimulator;
  port: number;
  signingSecret: string;
  config: Ds01Config;
  missing: string[];
  logFile?: string;
  onQuit?: () => void;
  input?: NodeJS.ReadableStream;
  output?: (s: string) => void;
}): void {
  const user = opts.config.users[0]!;
  const dm = `D${user.slack_id.slice(1)}`;
  const url = `http://127.0.0.1:${opts.port}/slack/events`;
  const out = opts.output ?? ((s: string) => void process.stdout.write(s + '\n'));
  const choices = new Map<number, Choice>();
  let nextChoice = 1;
  let modal: OpenModal | undefined;
  let seq = 0;
  const who = { id: user.slack_id, username: user.user, name: user.user, team_id: TEAM.id };

  /** Prints a message or view, numbering its buttons. */
  const show = (prefix: string, payload: Record<string, unknown>, where: (b: ButtonChoice) => Choice['where']) => {
    const { lines, buttons } = renderBlocks(payload);
    if (lines.length) out(`${prefix}${lines.join('\n      ')}`);
    if (buttons.length) {
      const labels = buttons.map((b) => {
        const n = nextChoice++;
        choices.set(n, { button: b, where: where(b) });
        return `[${n}] ${b.label}`;
      });
      out(`      ${labels.join('   ')}   (type the number to press)`);
    }
  };
  const inMessage = (channel: string, ts: string, payload: Record<string, unknown>) => () =>
    ({ kind: 'message', channel, ts, text: String(payload.text ?? ''), blocks: Array.isArray(payload.blocks) ? payload.blocks : [] }) as const;

  const askNext = () => {
    if (!modal) return;
    const q = modal.questions[modal.answers.length];
    if (!q) return void submitModal();
    const flags = [q.optional ? 'optional' : 'required', q.multiline ? 'one per line, an empty line ends' : ''].filter(Boolean).join('; ');
    out(`  ? ${q.label} (${flags})${q.hint ? `\n    ${q.hint}` : ''}`);
    if (q.kind === 'checkboxes') {
      q.options.forEach((o, i) => out(`    ${i + 1}) ${o.label}`));
      out('    type the numbers to tick, or Enter for none');
    }
  };

  const openModal = (viewId: string, view: Record<string, unknown>) => {
    const questions = modalQuestions(view);
    const title = String((view.title as { text?: string } | undefined)?.text ?? 'Dialog');
    if (!questions.length) {
      modal = undefined;
      return show(`bot ▣ ${title}: `, view, () => ({ kind: 'view', viewId, viewType: 'modal' }));
    }
    // The bot often opens a modal at once and fills it in a moment later (views.update): answers
    // already typed for the same questions are kept, and the questions are not asked again.
    const same = modal && modal.viewId === viewId && modal.questions.map((q) => q.block_id).join() === questions.map((q) => q.block_id).join();
    if (same) {
      modal = { ...modal!, view, questions };
      return;
    }
    show(`bot ▣ ${title}: `, view, () => ({ kind: 'view', viewId, viewType: 'modal' }));
    out("      (answer each question; type 'cancel' to close the dialog)");
    modal = { viewId, view, questions, answers: [], lines: [] };
    askNext();
  };

  const submitModal = () => {
    const m = modal!;
    modal = undefined;
    const payload = {
      type: 'view_submission',
      team: TEAM,
      user: who,
      api_app_id: 'A0DS01BOT',
      token: 'deprecated-verification-token',
      trigger_id: `${Date.now()}.${++seq}.console`,
      view: { ...m.view, id: m.viewId, team_id: TEAM.id, type: 'modal', state: { values: modalState(m.questions, m.answers) }, app_id: 'A0DS01BOT', bot_id: 'B0DS01BOT' },
      response_urls: [],
      is_enterprise_install: false,
    };
    send(interactionBody(payload), 'application/x-www-form-urlencoded', (body) => {
      const ack = parseJson(body);
      if (ack?.response_action === 'errors' && ack.errors && typeof ack.errors === 'object') {
        for (const [, msg] of Object.entries(ack.errors as Record<string, string>)) out(`bot ✗ ${msg}`);
        out('      try again:');
        modal = { ...m, answers: [], lines: [] };
        askNext();
      } else if ((ack?.response_action === 'update' || ack?.response_action === 'push') && ack.view && typeof ack.view === 'object') {
        openModal(m.viewId, ack.view as Record<string, unknown>);
      }
    });
  };

  const onModalLine = (line: string) => {
    const m = modal!;
    if (line.trim().toLowerCase() === 'cancel') {
      modal = undefined;
      return out('(dialog closed, nothing submitted)');
    }
    const q = m.questions[m.answers.length]!;
    if (q.multiline) {
      if (line !== '') return void m.lines.push(line);
      m.answers.push(m.lines.join('\n'));
      m.lines = [];
    } else {
      if (line === '' && !q.optional && q.kind === 'text') return out('    this one is required');
      m.answers.push(line);
    }
    askNext();
  };

  const send = (body: string, type: 'application/x-www-form-urlencoded' | 'application/json', onAck?: (body: string) => void) => {
    postToApp(url, opts.signingSecret, body, type)
      .then((r) => {
        if (onAck) return onAck(r.body);
        const ack = parseJson(r.body);
        if (ack && (ack.text || ack.blocks)) show('bot › ', ack, inMessage(dm, `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`, ack));
      })
      .catch((err: Error) => out(`(could not reach the bot: ${err.message})`));
  };

  const press = (n: number) => {
    const c = choices.get(n);
    if (!c) return out(`(there is no button ${n})`);
    const action = {
      action_id: c.button.action_id,
      block_id: c.button.block_id,
      value: c.button.value,
      type: 'button',
      text: { type: 'plain_text', text: c.button.label },
      action_ts: `${Date.now() / 1000}`,
    };
    const base = {
      type: 'block_actions',
      user: who,
      api_app_id: 'A0DS01BOT',
      token: 'deprecated-verification-token',
      team: TEAM,
      trigger_id: `${Date.now()}.${++seq}.console`,
      state: { values: {} },
      actions: [action],
    };
    const payload =
      c.where.kind === 'message'
        ? {
            ...base,
            container: { type: 'message', message_ts: c.where.ts, channel_id: c.where.channel, is_ephemeral: false },
            channel: { id: c.where.channel, name: 'directmessage' },
            message: { type: 'message', ts: c.where.ts, text: c.where.text, user: opts.sim.botUserId, bot_id: 'B0DS01BOT', blocks: c.where.blocks },
            response_url: opts.sim.responseUrl(),
          }
        : { ...base, container: { type: 'view', view_id: c.where.viewId }, view: { id: c.where.viewId, type: c.where.viewType, team_id: TEAM.id } };
    out(`you pressed [${c.button.label}]`);
    send(interactionBody(payload), 'application/x-www-form-urlencoded');
  };

  const directMessage = (text: string) => {
    const ts = `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;
    const envelope = {
      token: 'deprecated-verification-token',
      team_id: TEAM.id,
      api_app_id: 'A0DS01BOT',
      type: 'event_callback',
      event_id: `Ev0CONSOLE${Date.now()}${seq}`,
      event_time: Math.floor(Date.now() / 1000),
      event: { type: 'message', channel: dm, channel_type: 'im', user: user.slack_id, text, ts, event_ts: ts },
    };
    send(JSON.stringify(envelope), 'application/json');
  };

  const openHome = () => {
    const envelope = {
      token: 'deprecated-verification-token',
      team_id: TEAM.id,
      api_app_id: 'A0DS01BOT',
      type: 'event_callback',
      event_id: `Ev0CONSOLEHOME${Date.now()}${++seq}`,
      event_time: Math.floor(Date.now() / 1000),
      event: { type: 'app_home_opened', user: user.slack_id, channel: dm, tab: 'home', event_ts: `${Date.now() / 1000}` },
    };
    send(JSON.stringify(envelope), 'application/json');
  };

  opts.sim.onCall = (c: RecordedCall) => {
    const args = c.args;
    switch (c.method) {
      case 'chat.postMessage': {
        const channel = String(c.result?.channel ?? args.channel);
        const where = channel === dm || String(args.channel) === user.slack_id ? '' : ` (in ${String(args.channel)})`;
        return show(`bot →${where} `, args, inMessage(channel, String(c.result?.ts ?? ''), args));
      }
      case 'chat.update':
        return show('bot ↻ ', args, inMessage(String(args.channel), String(args.ts), args));
      case 'chat.postEphemeral':
        return show('bot (only you) › ', args, inMessage(String(args.channel), String(c.result?.message_ts ?? ''), args));
      case 'response_url':
        if (args.delete_original === true || args.delete_original === 'true') return;
        return show('bot › ', args, inMessage(dm, `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`, args));
      case 'views.open':
      case 'views.push':
      case 'views.update': {
        const view = (typeof args.view === 'object' ? args.view : {}) as Record<string, unknown>;
        const viewId = String(args.view_id ?? (c.result?.view as { id?: string } | undefined)?.id ?? 'V0CONSOLE');
        return openModal(viewId, view);
      }
      case 'views.publish': {
        const view = (typeof args.view === 'object' ? args.view : {}) as Record<string, unknown>;
        return show('App Home ▤ ', view, () => ({ kind: 'view', viewId: String(c.result?.view && (c.result.view as { id?: string }).id), viewType: 'home' }));
      }
      case 'auth.test':
        return;
      default:
        return out(`(bot called ${c.method})`);
    }
  };

  out('');
  out('DS01 bot — local console (no Slack connection).');
  out(`Missing to connect to Slack: ${opts.missing.join(', ')}.`);
  out(`Type a /ds01 command as ${user.user} (${user.slack_id}), e.g. "launch demo", "status", "gpus", "help". Ctrl-D to quit.`);
  out('Anything else is a DM to the bot (ask it about DS01); a number presses that button; "home" opens the App Home.');
  if (opts.logFile) out(`The bot's log: ${opts.logFile}`);
  const rl = createInterface({ input: opts.input ?? process.stdin, terminal: false });
  rl.on('line', (raw) => {
    const line = raw.length > MAX_LINE ? raw.slice(0, MAX_LINE) : raw;
    if (modal) return onModalLine(line);
    const text = line.trim();
    if (!text) return;
    if (/^\d{1,4}$/.test(text)) return press(Number(text));
    if (text.toLowerCase() === 'home') return openHome();
    if (text.startsWith('/ds01') || SUBCOMMAND.test(text)) {
      const command = text.replace(/^\/ds01\s*/, '');
      return send(
        slashCommandBody({ text: command, user_id: user.slack_id, user_name: user.user, channel_id: dm, channel_name: 'directmessage', response_url: opts.sim.responseUrl() }),
        'application/x-www-form-urlencoded',
      );
    }
    directMessage(text);
  });
  rl.on('close', () => {
    out('(bye)');
    opts.onQuit?.();
  });
}

function parseJson(body: string): Record<string, unknown> | undefined {
  if (!body) return undefined;
  try {
    const v = JSON.parse(body) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

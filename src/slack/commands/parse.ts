import { parseArgs } from 'node:util';
import { parseArgsStringToArgv } from 'string-argv';
import { z } from 'zod';
import { ProjectName } from '../../ds01/naming.js';

/**
 * `/ds01 <subcommand> [args] [--flags]` → a validated command, or a kind message saying what
 * was wrong. Tokenising (quotes) by string-argv, flags by node:util's parseArgs, values by zod.
 * Pure: no I/O, so it is safe before the 3-second ack.
 */

export const SUBCOMMANDS = ['launch', 'retire', 'image-update', 'status', 'gpus', 'limits', 'queue', 'keepalive', 'help', 'audit'] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

// Messages are whole sentences' openings: the reply adds `. Usage: ...` after them.
const Hours = z.coerce.number({ message: 'The hours must be a number' }).positive('The hours must be more than 0').max(168, 'Keep-alive is at most 168 hours (a week)');
const GpuCount = z.coerce.number({ message: '`--gpus` takes a number' }).int('`--gpus` takes a whole number').min(1, '`--gpus` is at least 1').max(16, '`--gpus` is at most 16');
const UserName = z
  .string()
  .max(32, { message: '`--user` takes a DS01 user name like `alice`', abort: true })
  .regex(/^[a-z_][a-z0-9._-]{0,31}$/, '`--user` takes a DS01 user name like `alice`');

export type Command =
  | { sub: 'launch'; project: string; gpus: number; rebuild: boolean }
  | { sub: 'retire'; project: string; user?: string; force: boolean }
  | { sub: 'image-update'; project: string }
  | { sub: 'status' }
  | { sub: 'gpus' }
  | { sub: 'limits' }
  | { sub: 'queue' }
  | { sub: 'keepalive'; project: string; hours?: number }
  | { sub: 'help'; question?: string }
  | { sub: 'audit'; user?: string };

export type ParseResult = { ok: true; command: Command } | { ok: false; message: string; showHelp: boolean };

const OPTIONS = {
  launch: { gpus: { type: 'string' }, rebuild: { type: 'boolean' } },
  retire: { user: { type: 'string' }, force: { type: 'boolean' } },
  'image-update': {},
  status: {},
  gpus: {},
  limits: {},
  queue: {},
  keepalive: {},
  help: {},
  audit: {},
} as const;

const USAGE: Record<Subcommand, string> = {
  launch: '`/ds01 launch <project> [--gpus N] [--rebuild]`',
  retire: '`/ds01 retire <project> [--force]` (admins: `--user <name>`)',
  'image-update': '`/ds01 image-update <project>`',
  status: '`/ds01 status`',
  gpus: '`/ds01 gpus`',
  limits: '`/ds01 limits`',
  queue: '`/ds01 queue`',
  keepalive: '`/ds01 keepalive <project> [hours]`',
  help: '`/ds01 help [question]`',
  audit: '`/ds01 audit [user]` (admins)',
};

export function usageOf(sub: Subcommand): string {
  return USAGE[sub];
}

function fail(message: string, showHelp = false): ParseResult {
  return { ok: false, message, showHelp };
}

function project(value: string | undefined, sub: Subcommand): string | ParseResult {
  if (value === undefined) return fail(`Which project? Usage: ${USAGE[sub]}`);
  const r = ProjectName.safeParse(value);
  if (!r.success) return fail(`\`${value.slice(0, 40)}\` is not a project name I can use: ${r.error.issues[0]!.message}.`);
  return r.data;
}

/** The first `'-…'` or `'--…'` quoted in node:util's parseArgs error message, if any. */
function quotedOption(message: string): string | null {
  const open = message.indexOf("'-");
  if (open === -1) return null;
  const close = message.indexOf("'", open + 1);
  return close === -1 ? null : message.slice(open + 1, close);
}

/** Longest slash-command text read (Slack's own limit for a slash command's text is lower still). */
export const MAX_COMMAND_CHARS = 2000;

export function parseCommand(text: string): ParseResult {
  if (text.length > MAX_COMMAND_CHARS) {
    return fail(`That command is longer than ${MAX_COMMAND_CHARS} characters, too long for me to read. Please shorten it.`);
  }
  // Slack turns quotes into “smart quotes” on some clients; treat them as plain quotes.
  const normalised = text
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2018\u2019]/g, "'")
    .trim();
  if (normalised === '') return { ok: true, command: { sub: 'help' } };
  // A help question is free text ("why didn't my build work?"): keep it as typed, quotes and all.
  // One whitespace character, then the rest: `\s+([\s\S]*)` could split a run of spaces many ways.
  const helpMatch = /^help(?:\s([\s\S]*))?$/i.exec(normalised);
  if (helpMatch) {
    const question = (helpMatch[1] ?? '').trim();
    return { ok: true, command: question ? { sub: 'help', question } : { sub: 'help' } };
  }
  let tokens: string[];
  try {
    tokens = parseArgsStringToArgv(normalised);
  } catch {
    return fail('I could not read that command (an unclosed quote?).', true);
  }
  const [head, ...rest] = tokens;
  const sub = (head ?? '').toLowerCase();
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
    return fail(`I don't know the command \`${(head ?? '').slice(0, 30)}\`. Here is what I can do:`, true);
  }
  const s = sub as Subcommand;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS[s], allowPositionals: true, strict: true });
  } catch (err) {
    const option = quotedOption((err as Error).message);
    return fail(`${option ? `The option \`${option.slice(0, 40)}\` doesn't work here` : 'I could not read the options'}. Usage: ${USAGE[s]}`);
  }
  const { values, positionals } = parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] };
  const maxPositionals = s === 'keepalive' ? 2 : ['status', 'gpus', 'limits', 'queue'].includes(s) ? 0 : 1;
  if (positionals.length > maxPositionals) {
    return fail(`Too many words after \`${s}\`. Usage: ${USAGE[s]}`);
  }
  switch (s) {
    case 'help': // handled above, before tokenising
      return { ok: true, command: { sub: 'help' } };
    case 'status':
    case 'gpus':
    case 'limits':
    case 'queue':
      return { ok: true, command: { sub: s } };
    case 'launch': {
      const p = project(positionals[0], s);
      if (typeof p !== 'string') return p;
      const gpus = GpuCount.safeParse(values.gpus ?? 1);
      if (!gpus.success) return fail(`${gpus.error.issues[0]!.message}. Usage: ${USAGE.launch}`);
      return { ok: true, command: { sub: 'launch', project: p, gpus: gpus.data, rebuild: values.rebuild === true } };
    }
    case 'retire': {
      const p = project(positionals[0], s);
      if (typeof p !== 'string') return p;
      if (values.user !== undefined) {
        const u = UserName.safeParse(values.user);
        if (!u.success) return fail(`${u.error.issues[0]!.message}.`);
        return { ok: true, command: { sub: 'retire', project: p, user: u.data, force: values.force === true } };
      }
      return { ok: true, command: { sub: 'retire', project: p, force: values.force === true } };
    }
    case 'audit': {
      if (positionals[0] === undefined) return { ok: true, command: { sub: 'audit' } };
      const u = UserName.safeParse(positionals[0]);
      if (!u.success) return fail(`${u.error.issues[0]!.message.replace('`--user` takes', '`audit` takes')}.`);
      return { ok: true, command: { sub: 'audit', user: u.data } };
    }
    case 'image-update': {
      const p = project(positionals[0], s);
      if (typeof p !== 'string') return p;
      return { ok: true, command: { sub: 'image-update', project: p } };
    }
    case 'keepalive': {
      const p = project(positionals[0], s);
      if (typeof p !== 'string') return p;
      if (positionals[1] === undefined) return { ok: true, command: { sub: 'keepalive', project: p } };
      const h = Hours.safeParse(positionals[1]);
      if (!h.success) return fail(`${h.error.issues[0]!.message}. Usage: ${USAGE.keepalive}`);
      return { ok: true, command: { sub: 'keepalive', project: p, hours: h.data } };
    }
  }
}

import { describe, expect, it } from 'vitest';
import { ProjectName } from '../../src/ds01/naming.js';
import { MAX_COMMAND_CHARS, parseCommand } from '../../src/slack/commands/parse.js';

describe('/ds01 text parsing', () => {
  it('reads launch with its flags', () => {
    expect(parseCommand('launch demo --gpus 2 --rebuild')).toEqual({ ok: true, command: { sub: 'launch', project: 'demo', gpus: 2, rebuild: true } });
    expect(parseCommand('  LAUNCH demo ')).toEqual({ ok: true, command: { sub: 'launch', project: 'demo', gpus: 1, rebuild: false } });
    expect(parseCommand('launch demo --gpus=3')).toMatchObject({ ok: true, command: { gpus: 3 } });
  });

  it('treats an empty text as help and keeps a help question whole', () => {
    expect(parseCommand('')).toEqual({ ok: true, command: { sub: 'help' } });
    expect(parseCommand('help why did my packages --disappear?')).toEqual({ ok: true, command: { sub: 'help', question: 'why did my packages --disappear?' } });
  });

  it('reads retire, keepalive, image-update and the bare commands', () => {
    expect(parseCommand('retire demo --user alice')).toEqual({ ok: true, command: { sub: 'retire', project: 'demo', user: 'alice', force: false } });
    expect(parseCommand('keepalive demo 2.5')).toEqual({ ok: true, command: { sub: 'keepalive', project: 'demo', hours: 2.5 } });
    expect(parseCommand('keepalive demo')).toEqual({ ok: true, command: { sub: 'keepalive', project: 'demo' } });
    expect(parseCommand('image-update demo')).toEqual({ ok: true, command: { sub: 'image-update', project: 'demo' } });
    for (const sub of ['status', 'gpus', 'limits']) expect(parseCommand(sub)).toEqual({ ok: true, command: { sub } });
  });

  it('answers every kind of bad input with a sentence, never an exception', () => {
    const bad = [
      'frobnicate',
      'launch',
      'launch ../../etc',
      'launch Demo',
      'launch demo --gpus lots',
      'launch demo --gpus 0',
      'launch demo --gpus 1.5',
      'launch demo --privileged',
      'launch demo extra words',
      'launch "$(rm -rf /)"',
      'launch demo;rm',
      'retire demo --user ../root',
      'keepalive demo -3',
      'keepalive demo forever',
      'keepalive demo 1000',
      'status now',
      'launch dem\u0000o',
      'x'.repeat(3000),
    ];
    for (const text of bad) {
      const r = parseCommand(text);
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.message.length, text).toBeGreaterThan(15);
    }
  });

  it('keeps a help question as typed, apostrophes and smart quotes included', () => {
    expect(parseCommand("help why didn't my \u201cbuild\u201d work?")).toEqual({ ok: true, command: { sub: 'help', question: 'why didn\'t my "build" work?' } });
    expect(parseCommand('launch \u201cdemo\u201d')).toMatchObject({ ok: true, command: { project: 'demo' } });
  });
});

describe("project names follow Docker's reference grammar", () => {
  it('refuses names Docker would refuse, at once, saying what is allowed', () => {
    for (const name of ['demo_', 'a-', 'a..b', 'a._.b', 'a___b', '_a', '.a', 'Demo', 'dé']) {
      const r = parseCommand(`launch ${name}`);
      expect(r.ok, name).toBe(false);
      if (!r.ok) {
        expect(r.message, name).toContain(`\`${name}\` is not a project name I can use`);
        expect(r.message, name).toMatch(/lowercase letters and digits.*start and end with a letter or digit/);
      }
    }
  });

  it('refuses a name that starts with a dash as the project name, even after `--`', () => {
    expect(ProjectName.safeParse('-a').success).toBe(false);
    const r = parseCommand('launch -- -a');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/not a project name I can use/);
  });

  it('accepts every separator the grammar allows', () => {
    for (const name of ['demo', 'my-model', 'my--model', 'exp_2', 'exp__2', 'v1.2', '0day', 'a'.repeat(64)]) {
      expect(parseCommand(`launch ${name}`), name).toMatchObject({ ok: true, command: { project: name } });
    }
  });

  it('checks the length before the pattern', () => {
    const r = parseCommand(`launch ${'a'.repeat(65)}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/at most 64 characters/);
  });

  it('refuses an over-long command with a sentence, before reading it', () => {
    const r = parseCommand(`help ${' '.repeat(MAX_COMMAND_CHARS)}`);
    expect(r).toMatchObject({ ok: false });
    if (!r.ok) expect(r.message).toMatch(/longer than 2000 characters/);
  });
});

/**
 * A small Dockerfile reader that keeps exact character offsets, so the editor can change a few
 * words and leave every other byte of the user's file alone.
 *
 * It follows Docker's own line rules: a trailing `\` continues an instruction, and blank or `#`
 * lines inside a continuation are dropped (they do not end the instruction). Shell-form arguments
 * are split into words and operators (`&&`, `||`, `;`, `|`, `&`, parentheses). Anything the reader
 * cannot follow with confidence (heredocs, exec form, a quote left open, a shell comment inside a
 * RUN) marks the instruction `opaque`, and the editor then leaves it alone.
 */
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { trimSpaceTab, trimSpaceTabEnd } from '../../src/shared/text-scan.js';

/**
 * Largest Dockerfile the reader accepts (characters). Real ones are a few kilobytes; the cap is
 * checked before anything else so that a hostile file costs at most this much linear work.
 */
export const MAX_DOCKERFILE_CHARS = 256_000;

export interface PhysicalLine {
  index: number;
  /** Offset of the first character. */
  start: number;
  /** Offset just after the content, before the line ending. */
  end: number;
  /** Offset of the next line (after `\n` or `\r\n`). */
  next: number;
  /** Content without the line ending. */
  text: string;
}

export interface ShellWord {
  kind: 'word';
  /** The word with quotes and backslash escapes removed. */
  value: string;
  start: number;
  end: number;
  line: number;
}

export interface ShellOp {
  kind: 'op';
  value: string;
  start: number;
  end: number;
  line: number;
}

export type ShellToken = ShellWord | ShellOp;

export interface Instruction {
  /** Upper-case instruction keyword (`RUN`, `COPY`, ...). */
  keyword: string;
  firstLine: number;
  lastLine: number;
  /** Shell-form arguments after the keyword. Empty when `opaque`. */
  tokens: ShellToken[];
  /** Parsed exec-form (`["a", "b"]`) arguments, when the instruction uses that form. */
  execArgs: string[] | null;
  /** True when the editor must not analyse or change this instruction. */
  opaque: boolean;
}

export type LineKind = 'blank' | 'comment' | 'instruction';

export interface ParsedDockerfile {
  text: string;
  eol: '\n' | '\r\n';
  lines: PhysicalLine[];
  instructions: Instruction[];
  /** What each physical line is, outside of instructions ('instruction' covers continuations). */
  lineKinds: LineKind[];
  /** A heredoc runs to the end of the file without its terminator word: nothing can be added after it. */
  unterminatedHeredoc: boolean;
  /** The last instruction ends with a `\` continuation: a line added at the end would join it. */
  danglingContinuation: boolean;
}

export function splitLines(text: string): PhysicalLine[] {
  const lines: PhysicalLine[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const next = nl === -1 ? text.length : nl + 1;
    let end = nl === -1 ? text.length : nl;
    if (nl !== -1 && end > start && text[end - 1] === '\r') end -= 1;
    lines.push({ index: lines.length, start, end, next, text: text.slice(start, end) });
    start = next;
  }
  return lines;
}

export function detectEol(text: string): '\n' | '\r\n' {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/**
 * Offset within `line` of a continuation backslash (a `\\` followed only by spaces or tabs up to
 * the end of the line), or -1. A backwards scan: `/\\[ \t]*$/` would be retried at every position.
 */
function continuationAt(line: string): number {
  const end = trimSpaceTabEnd(line).length;
  return end > 0 && line[end - 1] === '\\' ? end - 1 : -1;
}

interface Heredoc {
  /** `<<-`: leading tabs of the body lines are dropped before comparing with the terminator. */
  stripTabs: boolean;
  word: string;
}

const WORD_START_RE = /^[A-Za-z_]$/;
const WORD_CHAR_RE = /^[A-Za-z0-9_]$/;

/**
 * Heredoc markers (`<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`) in a logical line, in order. A forward
 * scan from each `<<`, looking at every character a bounded number of times.
 */
function heredocsIn(logical: string): Heredoc[] {
  const found: Heredoc[] = [];
  let from = 0;
  for (;;) {
    const at = logical.indexOf('<<', from);
    if (at === -1) return found;
    let k = at + 2;
    const stripTabs = logical[k] === '-';
    if (stripTabs) k += 1;
    while (logical[k] === ' ' || logical[k] === '\t') k += 1;
    const quote = logical[k] === '"' || logical[k] === "'" ? logical[k] : '';
    if (quote) k += 1;
    const wordStart = k;
    if (WORD_START_RE.test(logical[k] ?? '')) {
      k += 1;
      while (k < logical.length && WORD_CHAR_RE.test(logical[k]!)) k += 1;
      if (!quote || logical[k] === quote) {
        found.push({ stripTabs, word: logical.slice(wordStart, k) });
        if (quote) k += 1;
      }
    }
    from = Math.max(k, at + 2);
  }
}

function dropLeadingTabs(s: string): string {
  let k = 0;
  while (s[k] === '\t') k += 1;
  return s.slice(k);
}

/**
 * Docker reads parser directives (`# escape=...`) only at the very top. A backtick escape changes
 * what continues a line, which this reader does not model, so such files are refused rather than
 * risk a wrong edit.
 */
function assertDefaultEscape(lines: PhysicalLine[]): void {
  for (const line of lines) {
    const directive = parserDirective(line.text);
    if (!directive) return;
    if (directive.name.toLowerCase() === 'escape' && directive.value !== '\\') {
      throw new Ds01Error(
        ErrorCode.BadInput,
        'Your Dockerfile sets a custom escape character (`# escape=`), so I cannot edit it safely. Please add the packages by hand and rebuild.',
      );
    }
  }
}

/** `# name=value` (a parser directive's shape), or null for any other line. */
function parserDirective(text: string): { name: string; value: string } | null {
  const body = trimSpaceTab(text);
  if (!body.startsWith('#')) return null;
  const eq = body.indexOf('=');
  if (eq === -1) return null;
  const name = trimSpaceTab(body.slice(1, eq));
  const value = trimSpaceTab(body.slice(eq + 1));
  if (!/^[A-Za-z]+$/.test(name) || value.includes(' ') || value.includes('\t')) return null;
  return { name, value };
}

/** Refuses a Dockerfile too large to be a real one, before anything parses it. */
export function assertDockerfileSize(text: string): void {
  if (text.length > MAX_DOCKERFILE_CHARS) {
    throw new Ds01Error(
      ErrorCode.BadInput,
      `Your Dockerfile is larger than ${MAX_DOCKERFILE_CHARS / 1000} kB, which is more than I can read safely, so nothing was changed. Please shorten it (or add the packages by hand) and rebuild.`,
      { detail: `Dockerfile of ${text.length} characters` },
    );
  }
}

export function parseDockerfile(text: string): ParsedDockerfile {
  assertDockerfileSize(text);
  const lines = splitLines(text);
  assertDefaultEscape(lines);
  const lineKinds: LineKind[] = [];
  const instructions: Instruction[] = [];
  let unterminatedHeredoc = false;
  let danglingContinuation = false;

  let i = 0;
  while (i < lines.length) {
    const trimmed = lines[i]!.text.trim();
    if (trimmed === '') {
      lineKinds[i] = 'blank';
      i += 1;
      continue;
    }
    if (trimmed.startsWith('#')) {
      lineKinds[i] = 'comment';
      i += 1;
      continue;
    }

    const first = i;
    const contentLines = [i];
    let last = i;
    let continues = continuationAt(lines[i]!.text) !== -1;
    while (continues && last + 1 < lines.length) {
      last += 1;
      const t = lines[last]!.text.trim();
      if (t === '' || t.startsWith('#')) continue;
      contentLines.push(last);
      continues = continuationAt(lines[last]!.text) !== -1;
    }
    if (continues) danglingContinuation = true;

    const instruction = readInstruction(text, lines, contentLines);
    instruction.firstLine = first;

    // Heredoc bodies follow the instruction's last line and end at their terminator word.
    if (['RUN', 'COPY', 'ADD'].includes(instruction.keyword)) {
      const logical = contentLines.map((n) => lines[n]!.text).join(' ');
      for (const { stripTabs, word } of heredocsIn(logical)) {
        instruction.opaque = true;
        instruction.tokens = [];
        let closed = false;
        while (!closed && last + 1 < lines.length) {
          last += 1;
          const body = lines[last]!.text;
          closed = (stripTabs ? dropLeadingTabs(body) : body) === word;
        }
        if (!closed) unterminatedHeredoc = true;
      }
    }

    instruction.lastLine = last;
    for (let n = first; n <= last; n += 1) lineKinds[n] = 'instruction';
    instructions.push(instruction);
    i = last + 1;
  }

  return { text, eol: detectEol(text), lines, instructions, lineKinds, unterminatedHeredoc, danglingContinuation };
}

function readInstruction(text: string, lines: PhysicalLine[], contentLines: number[]): Instruction {
  const firstLine = lines[contentLines[0]!]!;
  const km = /^[ \t]*([A-Za-z]+)/.exec(firstLine.text);
  const keyword = (km?.[1] ?? '').toUpperCase();
  const argsStart = firstLine.start + (km?.[0].length ?? 0);

  const instruction: Instruction = {
    keyword,
    firstLine: firstLine.index,
    lastLine: firstLine.index,
    tokens: [],
    execArgs: null,
    opaque: false,
  };

  // Segments of real text, one per content line, without the keyword and the continuation `\`.
  const segments = contentLines.map((n, idx) => {
    const line = lines[n]!;
    const segStart = idx === 0 ? argsStart : line.start;
    const cont = continuationAt(line.text);
    const segEnd = cont !== -1 ? line.start + cont : line.end;
    return { line: n, start: segStart, end: Math.max(segStart, segEnd) };
  });

  const logical = segments
    .map((s) => text.slice(s.start, s.end))
    .join(' ')
    .trim();
  if (logical.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(logical);
      if (Array.isArray(parsed) && parsed.every((a) => typeof a === 'string')) instruction.execArgs = parsed as string[];
    } catch {
      // Not valid JSON: Docker then treats it as shell form, and so do we below.
    }
    if (instruction.execArgs) {
      instruction.opaque = true;
      return instruction;
    }
  }

  for (const seg of segments) {
    const result = tokenise(text, seg.start, seg.end, seg.line);
    instruction.tokens.push(...result.tokens);
    if (result.unsure) instruction.opaque = true;
  }
  if (instruction.opaque) instruction.tokens = [];
  return instruction;
}

const OPERATORS = ['&&', '||', ';;', ';', '|', '&', '(', ')'];

/** Splits one line's worth of shell text into words and operators, with offsets into `text`. */
function tokenise(text: string, start: number, end: number, line: number): { tokens: ShellToken[]; unsure: boolean } {
  const tokens: ShellToken[] = [];
  let pos = start;
  while (pos < end) {
    const c = text[pos]!;
    if (c === ' ' || c === '\t') {
      pos += 1;
      continue;
    }
    // A shell comment inside a joined RUN line would swallow every later line: too risky to edit.
    if (c === '#') return { tokens, unsure: true };
    const op = OPERATORS.find((o) => text.startsWith(o, pos) && pos + o.length <= end);
    // Subshells and command substitution nest commands inside words; appending a package next to
    // them could land inside the wrong command, so such instructions are left alone.
    if (op === '(' || op === ')') return { tokens, unsure: true };
    if (op) {
      tokens.push({ kind: 'op', value: op, start: pos, end: pos + op.length, line });
      pos += op.length;
      continue;
    }

    const wordStart = pos;
    let value = '';
    while (pos < end) {
      const ch = text[pos]!;
      if (ch === ' ' || ch === '\t') break;
      if (ch === '`' || (ch === '$' && text[pos + 1] === '(')) return { tokens, unsure: true };
      if (ch === ';' || ch === '|' || ch === '(' || ch === ')') break;
      // `2>&1` and `<&0` keep their `&`; any other `&` separates commands.
      if (ch === '&' && !(pos > wordStart && (text[pos - 1] === '>' || text[pos - 1] === '<'))) break;
      if (ch === "'") {
        const close = text.indexOf("'", pos + 1);
        if (close === -1 || close >= end) return { tokens, unsure: true };
        value += text.slice(pos + 1, close);
        pos = close + 1;
        continue;
      }
      if (ch === '"') {
        let k = pos + 1;
        let inner = '';
        while (k < end && text[k] !== '"') {
          if (text[k] === '`' || (text[k] === '$' && text[k + 1] === '(')) return { tokens, unsure: true };
          if (text[k] === '\\' && k + 1 < end) {
            inner += text[k + 1];
            k += 2;
          } else {
            inner += text[k];
            k += 1;
          }
        }
        if (k >= end) return { tokens, unsure: true };
        value += inner;
        pos = k + 1;
        continue;
      }
      if (ch === '\\' && pos + 1 < end) {
        value += text[pos + 1];
        pos += 2;
        continue;
      }
      value += ch;
      pos += 1;
    }
    tokens.push({ kind: 'word', value, start: wordStart, end: pos, line });
  }
  return { tokens, unsure: false };
}

/** Splits tokens into simple commands (word lists), dropping the operators between them. */
export function simpleCommands(tokens: ShellToken[]): ShellWord[][] {
  const commands: ShellWord[][] = [];
  let current: ShellWord[] = [];
  for (const t of tokens) {
    if (t.kind === 'op') {
      if (current.length > 0) commands.push(current);
      current = [];
    } else {
      current.push(t);
    }
  }
  if (current.length > 0) commands.push(current);
  return commands;
}

/** Index of the first instruction of the final build stage (the one whose result is the image). */
export function finalStageStart(df: ParsedDockerfile): number {
  let start = 0;
  df.instructions.forEach((ins, idx) => {
    if (ins.keyword === 'FROM') start = idx + 1;
  });
  return start;
}

/** The physical line where the final stage's content begins (just after its FROM). */
export function finalStageFirstLine(df: ParsedDockerfile): number {
  const start = finalStageStart(df);
  return start === 0 ? 0 : df.instructions[start - 1]!.lastLine + 1;
}

export function instructionAtLine(df: ParsedDockerfile, line: number): Instruction | undefined {
  return df.instructions.find((ins) => ins.firstLine <= line && line <= ins.lastLine);
}

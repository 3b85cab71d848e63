/**
 * Block Kit as a person reads it in a terminal: the text of every block in order, each button as a
 * numbered choice, and a modal's inputs as the questions to ask. Pure functions of the payloads the
 * bot sends to Slack; the console (console.ts) does the I/O.
 */

export interface ButtonChoice {
  label: string;
  action_id: string;
  value: string;
  block_id: string;
}

export interface RenderedMessage {
  lines: string[];
  buttons: ButtonChoice[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const textOf = (t: unknown): string => (isObj(t) && typeof t.text === 'string' ? t.text : typeof t === 'string' ? t : '');

/**
 * Slack's mrkdwn made plain: links `<https://x|label>` → `label (https://x)`, mentions `<@U1>` → `@U1`,
 * and the escaped `&lt; &gt; &amp;` back to characters. Anything else in angle brackets (a literal
 * `<project>` in a usage line) stays as written.
 */
export function plainMrkdwn(s: string): string {
  return s
    .replace(/<(https?:\/\/[^<>|\s]{1,2000})\|([^<>]{1,2000})>/g, '$2 ($1)')
    .replace(/<(https?:\/\/[^<>|\s]{1,2000})>/g, '$1')
    .replace(/<([@#!][A-Za-z0-9^|._-]{1,200})>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Text lines and buttons of a message or view (blocks when present, else its text). */
export function renderBlocks(payload: Obj): RenderedMessage {
  const lines: string[] = [];
  const buttons: ButtonChoice[] = [];
  const addButton = (el: Obj, blockId: string) => {
    buttons.push({ label: textOf(el.text), action_id: String(el.action_id ?? ''), value: String(el.value ?? ''), block_id: blockId });
  };
  const blocks = Array.isArray(payload.blocks) ? (payload.blocks as unknown[]) : [];
  for (const b of blocks) {
    if (!isObj(b)) continue;
    const blockId = String(b.block_id ?? '');
    switch (b.type) {
      case 'header':
        lines.push(`== ${textOf(b.text)} ==`);
        break;
      case 'section': {
        const t = textOf(b.text);
        if (t) lines.push(plainMrkdwn(t));
        if (Array.isArray(b.fields)) for (const f of b.fields) lines.push(plainMrkdwn(textOf(f)));
        if (isObj(b.accessory) && b.accessory.type === 'button') addButton(b.accessory, blockId);
        break;
      }
      case 'context':
        if (Array.isArray(b.elements)) {
          const t = b.elements.map(textOf).filter(Boolean).join('  ');
          if (t) lines.push(`  ${plainMrkdwn(t)}`);
        }
        break;
      case 'actions':
        if (Array.isArray(b.elements)) for (const el of b.elements) if (isObj(el) && el.type === 'button') addButton(el, blockId);
        break;
      case 'divider':
        lines.push('---');
        break;
      case 'rich_text':
      case 'markdown':
        lines.push(plainMrkdwn(textOf(b) || String(b.text ?? '')));
        break;
      default:
        break;
    }
  }
  if (lines.length === 0 && typeof payload.text === 'string' && payload.text) lines.push(plainMrkdwn(payload.text));
  return { lines, buttons };
}

/** One question a modal asks, and how its answer goes back in `view.state.values`. */
export interface ModalQuestion {
  block_id: string;
  action_id: string;
  label: string;
  hint: string;
  optional: boolean;
  kind: 'text' | 'checkboxes';
  multiline: boolean;
  options: Array<{ label: string; value: string; text: Obj }>;
  initial: string;
}

/** A modal's input blocks, in order. */
export function modalQuestions(view: Obj): ModalQuestion[] {
  const out: ModalQuestion[] = [];
  for (const b of Array.isArray(view.blocks) ? (view.blocks as unknown[]) : []) {
    if (!isObj(b) || b.type !== 'input' || !isObj(b.element)) continue;
    const el = b.element;
    const base = {
      block_id: String(b.block_id ?? ''),
      action_id: String(el.action_id ?? ''),
      label: textOf(b.label),
      hint: textOf(b.hint),
      optional: b.optional === true,
    };
    if (el.type === 'plain_text_input') {
      out.push({ ...base, kind: 'text', multiline: el.multiline === true, options: [], initial: typeof el.initial_value === 'string' ? el.initial_value : '' });
    } else if (el.type === 'checkboxes' && Array.isArray(el.options)) {
      const options = el.options.filter(isObj).map((o) => ({ label: textOf(o.text), value: String(o.value ?? ''), text: (o.text ?? {}) as Obj }));
      out.push({ ...base, kind: 'checkboxes', multiline: false, options, initial: '' });
    }
  }
  return out;
}

/** `view.state.values` for the answers given (text per question; chosen option numbers, 1-based, for checkboxes). */
export function modalState(questions: ModalQuestion[], answers: string[]): Record<string, Record<string, unknown>> {
  const values: Record<string, Record<string, unknown>> = {};
  questions.forEach((q, i) => {
    const a = answers[i] ?? '';
    if (q.kind === 'text') {
      values[q.block_id] = { [q.action_id]: { type: 'plain_text_input', value: a === '' ? null : a } };
    } else {
      const picked = a
        .split(/[\s,]+/)
        .map((n) => Number(n))
        .filter((n) => Number.isInteger(n) && n >= 1 && n <= q.options.length);
      const selected = [...new Set(picked)].map((n) => ({ value: q.options[n - 1]!.value, text: q.options[n - 1]!.text }));
      values[q.block_id] = { [q.action_id]: { type: 'checkboxes', selected_options: selected } };
    }
  });
  return values;
}

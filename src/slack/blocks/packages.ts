/**
 * Package notices (pure): the one DM per container that offers packages pip-installed inside it for
 * the image, updated in place; what it says after [Not needed]; and the "you were told" sentence of
 * a retirement. No I/O here.
 */
import type { KnownBlock } from '@slack/types';
import { z } from 'zod';
import type { EventOf, PipPackage } from '../../contract/jobs.js';
import { ProjectName } from '../../ds01/naming.js';
import { code, IMAGE_ACTIONS, recreateBlocks, type AddToImageValue } from './build.js';

export type Message = { text: string; blocks: KnownBlock[] };

export const PACKAGE_ACTIONS = {
  /** [Not needed] on a package notice: value is `NotNeededValue` JSON. */
  notNeeded: 'packages_not_needed',
} as const;

/** Value of [Not needed]: which container (its engine id) and which packages to stop offering. */
export const NotNeededValue = z.object({
  project: ProjectName,
  host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/),
  cid: z.string().regex(/^[a-f0-9]{12,64}$/),
  names: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/))
    .min(1)
    .max(100),
});
export type NotNeededValue = z.infer<typeof NotNeededValue>;

const MAX_VALUE = 1900; // Slack's button values stop at 2000 characters

const shown = (p: PipPackage) => `${p.name} ${p.version}`;

/** "`a 1`, `b 2` and `c 3`", at most `max` named. */
export function packageList(packages: PipPackage[], max = 15): string {
  const names = packages.slice(0, max).map((p) => code(shown(p)));
  const rest = packages.length - names.length;
  if (rest > 0) return `${names.join(', ')} and ${rest} more`;
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** [Add to image]: the package modal, pre-filled with the exact versions. */
export function addToImageButtonValue(project: string, packages: PipPackage[]): string {
  const value: AddToImageValue = { project, python: [], system: [] };
  for (const p of packages.slice(0, 50)) {
    const next = [...value.python, `${p.name}==${p.version}`];
    if (JSON.stringify({ project, python: next }).length > MAX_VALUE) break;
    value.python = next;
  }
  return JSON.stringify({ project, python: value.python });
}

export function notNeededButtonValue(e: EventOf<'packages.noticed'>): string {
  const names: string[] = [];
  for (const p of e.pending) {
    if (JSON.stringify({ project: e.project, host: e.host, cid: e.containerId, names: [...names, p.name] }).length > MAX_VALUE) break;
    names.push(p.name);
  }
  return JSON.stringify({ project: e.project, host: e.host, cid: e.containerId, names } satisfies NotNeededValue);
}

/** The notice, rendered from the latest event for the container. */
export function packagesNoticeMessage(e: EventOf<'packages.noticed'>): Message {
  const blocks: KnownBlock[] = [];
  let text = '';
  if (e.pending.length > 0) {
    const they = e.pending.length === 1 ? 'It lives' : 'They live';
    const it = e.pending.length === 1 ? 'it' : 'them';
    text = `You installed ${packageList(e.pending)} inside ${code(e.project)} on ${e.host}. ${they} only in this container and will be gone when it is retired.`;
    blocks.push(
      { type: 'section', text: { type: 'mrkdwn', text: `:package: ${text}` } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `The image is the blueprint and the container one copy of it: add ${it} to the image and every container you launch from now on has ${it}.`,
        },
      },
      {
        type: 'actions',
        block_id: 'package_notice',
        elements: [
          {
            type: 'button',
            style: 'primary',
            action_id: IMAGE_ACTIONS.open,
            text: { type: 'plain_text', text: 'Add to image' },
            value: addToImageButtonValue(e.project, e.pending),
          },
          { type: 'button', action_id: PACKAGE_ACTIONS.notNeeded, text: { type: 'plain_text', text: 'Not needed' }, value: notNeededButtonValue(e) },
        ],
      },
    );
  }
  if (e.added.length > 0) {
    const line = `:white_check_mark: The image for ${code(e.project)} now has ${packageList(e.added)}.`;
    text = text ? `${text} ${line}` : line.replace(':white_check_mark: ', '');
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: line } });
    if (e.pending.length === 0) blocks.push(...recreateBlocks(e.project, e.host, e.container));
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'I mention each package once per container, and update this message when you install more.' }] });
  return { text, blocks };
}

/** The notice after [Not needed]: the buttons go, a line says what was silenced. */
export function notNeededMessage(project: string, names: string[]): Message {
  const list = names.slice(0, 15).map(code).join(', ') + (names.length > 15 ? ` and ${names.length - 15} more` : '');
  const text = `OK: I won't mention ${list} again for this ${code(project)} container. They stay in it until it is retired; files in /workspace are kept either way.`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `:ok_hand: ${text}` } }] };
}

function dayKey(t: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(t));
}

/** "earlier today", "yesterday", "on Tuesday" (within a week), else "on 24 Nov", in `timeZone`. */
export function whenTold(at: string, ref: string, timeZone: string): string {
  const t = Date.parse(at);
  const r = Date.parse(ref);
  const days = Math.round((Date.parse(dayKey(r, timeZone)) - Date.parse(dayKey(t, timeZone))) / 86_400_000);
  if (days <= 0) return 'earlier today';
  if (days === 1) return 'yesterday';
  if (days < 7) return `on ${new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'long' }).format(new Date(t))}`;
  return `on ${new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short' }).format(new Date(t))}`;
}

/**
 * For a retirement: one sentence per day and answer, e.g. "You were told about `einops==0.7.0` on
 * Tuesday; not added." Empty when nothing lost had been announced.
 */
export function toldSentences(e: EventOf<'container.retired'>, timeZone: string): string[] {
  const groups = new Map<string, string[]>();
  for (const t of e.toldAbout) {
    const key = `${whenTold(t.at, e.at, timeZone)}|${t.answer}`;
    groups.set(key, [...(groups.get(key) ?? []), t.package]);
  }
  return [...groups].map(([key, specs]) => {
    const [when, answer] = key.split('|');
    const list = specs.slice(0, 15).map(code).join(', ') + (specs.length > 15 ? ` and ${specs.length - 15} more` : '');
    return answer === 'not_needed' ? `You were told about ${list} ${when} and answered Not needed.` : `You were told about ${list} ${when}; not added.`;
  });
}

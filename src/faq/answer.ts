import type { DocSection } from './doc-sections.js';
import type { Topic } from './knowledge-base.js';
import { truncatedNote } from './question.js';
import type { FaqResult } from './search.js';

/**
 * Turns a FAQ search result into a Slack reply (fallback text + Block Kit blocks). Pure: everything
 * it needs, including what recently happened to the user's containers, comes in through the context.
 */

export type RetirementReason = 'user' | 'idle' | 'max_runtime' | 'admin';

export interface RecentRetirement {
  project: string;
  reason: RetirementReason;
  /** ISO timestamp of the retirement. */
  at: string;
  /** pip packages that were installed in the container but are not in its image. */
  lostPackages: string[];
  host: string;
}

/** GPUs on the online hosts right now (from the workers' snapshots). */
export interface GpusNow {
  free: number;
  total: number;
  hosts: number;
}

/** One of the asker's own containers that is running now, with when its maximum runtime ends. */
export interface OwnContainer {
  project: string;
  host: string;
  /** ISO time the container was created. */
  since: string | null;
  /** ISO time its group's maximum runtime runs out (null when the group has none or the start is unknown). */
  runtimeEndsAt: string | null;
}

export interface UserContext {
  recentRetirements?: RecentRetirement[];
  gpusNow?: GpusNow;
  ownContainers?: OwnContainer[];
  /** How to reach the admins, as Slack mrkdwn (e.g. "<#C123|ds01-help>" or "<@U123>"). */
  adminContact: string;
}

// Minimal Block Kit shapes; each is assignable to @slack/types' KnownBlock.
export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
export interface Mrkdwn {
  type: 'mrkdwn';
  text: string;
}
export interface Button {
  type: 'button';
  text: PlainText;
  action_id: string;
  value: string;
  style?: 'primary' | 'danger';
}
export interface SectionBlock {
  type: 'section';
  text: Mrkdwn;
  accessory?: Button;
}
export interface ActionsBlock {
  type: 'actions';
  elements: Button[];
}
export interface ContextBlock {
  type: 'context';
  elements: Mrkdwn[];
}
export type Block = SectionBlock | ActionsBlock | ContextBlock;

export interface Answer {
  /** Notification / fallback text; carries the same facts as the blocks. */
  text: string;
  blocks: Block[];
}

export const FAQ_ACTION = {
  helpfulYes: 'faq_helpful_yes',
  helpfulNo: 'faq_helpful_no',
  showTopic: 'faq_topic',
  addToImage: 'image_update_open',
} as const;

/** Value of the [Add to image] button, read by the image-update modal. */
export interface AddToImageValue {
  project: string;
  python: string[];
}

const STOP_TOPICS = new Set(['retirement', 'idle-and-runtime-limits', 'runtime-limit-stop', 'idle-warning', 'why-ephemeral']);
const GPU_TOPICS = new Set(['gpu-allocation', 'quotas-and-queue', 'mig', 'bare-metal-gpu']);
const RUNTIME_TOPICS = new Set(['idle-and-runtime-limits', 'runtime-limit-stop', 'idle-warning', 'keep-alive', 'long-running-jobs']);
const MAX_LISTED_CONTAINERS = 5;
const PACKAGE_TOPICS = new Set(['packages-and-the-image', 'retirement']);
const MAX_LISTED_RETIREMENTS = 3;
const MAX_LISTED_PACKAGES = 15;
const MAX_BUTTON_VALUE = 2000; // Slack's limit for a button value

const REASON: Record<RetirementReason, string> = {
  idle: 'by the *idle timeout* (its GPU and CPU stayed near zero for too long)',
  max_runtime: 'because it reached the *maximum runtime* for your group',
  user: 'by you',
  admin: 'by a DS01 admin',
};

export function composeAnswer(result: FaqResult, ctx: UserContext): Answer {
  const answer =
    result.confident && result.topic ? answerForTopic(result.topic, ctx, result.signature ? `That looks like *${result.signature.name}*.` : undefined) : unsureAnswer(result, ctx);
  if (result.truncatedFrom === undefined) return answer;
  const note = truncatedNote(result.truncatedFrom);
  return { text: `${note}\n${answer.text}`, blocks: [{ type: 'context', elements: [mrkdwn(note)] }, ...answer.blocks] };
}

/** The full answer for one topic (also used when someone clicks a topic button). */
export function answerForTopic(topic: Topic, ctx: UserContext, recognised?: string): Answer {
  const retirements = newestFirst(ctx.recentRetirements ?? []);
  const head = recognised ? `${recognised}\n*${topic.title}*` : `*${topic.title}*`;
  const lines: string[] = [head, topic.answer];
  const blocks: Block[] = [section(`${head}\n${topic.answer}`)];

  if (GPU_TOPICS.has(topic.id) && ctx.gpusNow) {
    const line = gpusNowLine(ctx.gpusNow);
    blocks.push(section(line));
    lines.push(line);
  }

  const running = (ctx.ownContainers ?? []).slice(0, MAX_LISTED_CONTAINERS);
  if (RUNTIME_TOPICS.has(topic.id) && running.length > 0) {
    const head = 'Your containers running now:';
    blocks.push(section([head, ...running.map((c) => `• ${ownContainerLine(c, slackDate)}`)].join('\n')));
    lines.push(head, ...running.map((c) => `• ${ownContainerLine(c, plainDate)}`));
  }

  if (STOP_TOPICS.has(topic.id) && retirements.length > 0) {
    const shown = retirements.slice(0, MAX_LISTED_RETIREMENTS);
    const head = 'What happened to your containers recently:';
    blocks.push(section([head, ...shown.map((r) => `• ${retirementLine(r, slackDate)}`)].join('\n')));
    lines.push(head, ...shown.map((r) => `• ${retirementLine(r, plainDate)}`));
  }

  const lost = retirements.find((r) => r.lostPackages.length > 0);
  if (PACKAGE_TOPICS.has(topic.id) && lost) {
    const button = addToImageButton(lost);
    blocks.push(section(lostPackagesLine(lost, slackDate)), { type: 'actions', elements: [button] });
    lines.push(lostPackagesLine(lost, plainDate));
  }

  const howTo = `Fix it: \`${topic.fix_command}\`\nCLI: \`${topic.cli_equivalent}\``;
  const readMore = `Read more: \`${topic.read_more}\``;
  blocks.push(
    section(howTo),
    { type: 'context', elements: [mrkdwn(readMore)] },
    { type: 'context', elements: [mrkdwn('Did this help?')] },
    {
      type: 'actions',
      elements: [button('Yes, thanks', FAQ_ACTION.helpfulYes, topic.id), button('Not really', FAQ_ACTION.helpfulNo, topic.id)],
    },
  );
  lines.push(howTo, readMore);
  return { text: lines.join('\n'), blocks };
}

function unsureAnswer(result: FaqResult, ctx: UserContext): Answer {
  const intro = result.declined
    ? `${result.declined} If it is about DS01 after all, is it one of these?`
    : "I'm not sure I understood that, and I'd rather not guess. Is your question about one of these?";
  const admins = `If none of these fit, the DS01 admins can help: ${ctx.adminContact}`;
  const shown = result.alternatives.slice(0, 3);
  const docs = result.sections.length > 0 ? ['These parts of the DS01 docs look related:', ...result.sections.map(sectionLine)] : [];
  return {
    text: [intro, ...shown.map((t) => `• ${t.title}`), ...docs, admins].join('\n'),
    blocks: [
      section(intro),
      ...shown.map((t) => section(`*${t.title}*`, button('Show answer', FAQ_ACTION.showTopic, t.id))),
      ...(docs.length > 0 ? [section(docs.join('\n'))] : []),
      { type: 'context', elements: [mrkdwn(admins)] },
    ],
  };
}

function sectionLine(s: DocSection): string {
  return `• ${escape(s.heading)}: \`${s.page}${s.anchor ? `#${s.anchor}` : ''}\``;
}

function gpusNowLine(g: GpusNow): string {
  if (g.hosts === 0) return 'Right now no GPU host has reported in, so I cannot see which GPUs are free.';
  if (g.free === 0) return `Right now all ${g.total} GPUs are taken; one frees up when someone's container is retired or stopped.`;
  return `Right now ${g.free} ${g.free === 1 ? 'GPU is' : 'GPUs are'} free, out of ${g.total}.`;
}

function ownContainerLine(c: OwnContainer, date: (iso: string) => string): string {
  const since = c.since ? `, started ${date(c.since)}` : '';
  const ends = c.runtimeEndsAt ? `; its maximum runtime runs out around ${date(c.runtimeEndsAt)}` : '';
  return `\`${escape(c.project)}\` on \`${escape(c.host)}\`${since}${ends}.`;
}

function retirementLine(r: RecentRetirement, date: (iso: string) => string): string {
  return `\`${escape(r.project)}\` on \`${escape(r.host)}\` was retired ${REASON[r.reason]} on ${date(r.at)}.`;
}

function lostPackagesLine(r: RecentRetirement, date: (iso: string) => string): string {
  const listed = r.lostPackages.slice(0, MAX_LISTED_PACKAGES).map((p) => `\`${escape(p)}\``);
  const more = r.lostPackages.length - listed.length;
  return (
    `When \`${escape(r.project)}\` was retired on ${date(r.at)}, these pip packages were not in its image and are gone: ` +
    `${listed.join(', ')}${more > 0 ? ` and ${more} more` : ''}. Add them to the image and every new launch will have them.`
  );
}

/** [Add to image] with as many packages as fit into a button value. */
function addToImageButton(r: RecentRetirement): Button {
  const value: AddToImageValue = { project: r.project, python: [] };
  for (const pkg of r.lostPackages) {
    const next = JSON.stringify({ ...value, python: [...value.python, pkg] });
    if (next.length > MAX_BUTTON_VALUE) break;
    value.python.push(pkg);
  }
  return { ...button('Add to image', FAQ_ACTION.addToImage, JSON.stringify(value)), style: 'primary' };
}

function newestFirst(retirements: RecentRetirement[]): RecentRetirement[] {
  const time = (r: RecentRetirement) => Date.parse(r.at) || 0;
  return [...retirements].sort((a, b) => time(b) - time(a));
}

/** Slack renders this in the reader's own time zone; the part after | is the fallback. */
function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? escape(iso) : `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} at {time}|${plainDate(iso)}>`;
}

function plainDate(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function section(text: string, accessory?: Button): SectionBlock {
  return accessory ? { type: 'section', text: mrkdwn(text), accessory } : { type: 'section', text: mrkdwn(text) };
}

function mrkdwn(text: string): Mrkdwn {
  return { type: 'mrkdwn', text };
}

function button(text: string, actionId: string, value: string): Button {
  return { type: 'button', text: { type: 'plain_text', text, emoji: true }, action_id: actionId, value };
}

/** Slack mrkdwn control characters in data we did not write ourselves. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

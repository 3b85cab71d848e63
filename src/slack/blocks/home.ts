import type { Button, HomeView, KnownBlock } from '@slack/types';
import type { HostSnapshot } from '../../contract/hosts.js';
import { FAQ_ACTION } from '../../faq/answer.js';
import type { QueueEntry } from '../../queue/gpu-queue.js';
import { placeText } from '../../queue/gpu-queue.js';
import { QUEUE_ACTION } from './queue.js';

/**
 * The App Home (pure): the user's containers and images with quick actions, how many GPUs are free
 * on each host, and the most asked questions. Built from the hosts' snapshots; no I/O here.
 */

export const HOME_ACTION = {
  retire: 'home_retire',
  launch: 'home_launch',
  addPackages: FAQ_ACTION.addToImage,
  showTopic: FAQ_ACTION.showTopic,
} as const;

export interface HomeInput {
  slackUserId: string;
  /** The DS01 account for this Slack user, or null when they are not in the bot's config. */
  user: { user: string; uid: number } | null;
  hosts: HostSnapshot[];
  mostAsked: Array<{ topic: { id: string; title: string }; count: number }>;
  adminContact: string;
  /** The GPU queue in fair order (the user's own places are shown, with [Leave queue]). */
  queue?: QueueEntry[];
}

const MAX_ROWS = 15;
const MAX_BUTTON_TEXT = 75;

export function homeView(input: HomeInput): HomeView {
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: 'DS01 GPU server', emoji: true } }];
  if (input.user) {
    blocks.push(mrkdwnSection(`Hi <@${input.slackUserId}>! Here is what you have on DS01 right now. Ask me anything about DS01 in the *Messages* tab.`));
    blocks.push(
      { type: 'divider' },
      ...containerBlocks(input.user, input.hosts),
      ...queueBlocks(input.user, input.queue ?? []),
      { type: 'divider' },
      ...imageBlocks(input.user, input.hosts),
    );
  } else {
    blocks.push(
      mrkdwnSection(
        `You're not registered with DS01 on Slack yet, so I can't show or start containers for you. Ask ${input.adminContact} to add your Slack account (${input.slackUserId}) to the bot's user list. You can still ask me questions in the *Messages* tab.`,
      ),
    );
  }
  blocks.push({ type: 'divider' }, ...gpuBlocks(input.hosts, input.adminContact), { type: 'divider' }, ...mostAskedBlocks(input.mostAsked));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Need a person? The DS01 admins: ${input.adminContact}` }] });
  return { type: 'home', blocks };
}

function queueBlocks(user: { user: string }, queue: QueueEntry[]): KnownBlock[] {
  const mine = queue.flatMap((e, i) => (e.owner.user === user.user ? [{ e, place: i + 1 }] : []));
  if (mine.length === 0) return [];
  return [
    mrkdwnSection('*Waiting for a GPU*'),
    ...mine.slice(0, MAX_ROWS).map(
      ({ e, place }): KnownBlock => ({
        type: 'section',
        text: { type: 'mrkdwn', text: `\`${e.project}\` — ${placeText(place, e.gpus, e.host)}` },
        accessory: { type: 'button', action_id: QUEUE_ACTION.leave, text: { type: 'plain_text', text: 'Leave queue' }, value: e.requestId },
      }),
    ),
  ];
}

function containerBlocks(user: { user: string }, hosts: HostSnapshot[]): KnownBlock[] {
  const rows: KnownBlock[] = [];
  for (const h of hosts) {
    const slotOf = new Map(h.gpus.map((g) => [g.uuid, g.slot]));
    for (const c of h.containers.filter((c) => c.user === user.user)) {
      const gpus = c.gpuUuids.length ? c.gpuUuids.map((u) => `GPU ${slotOf.get(u) ?? '?'}`).join(', ') : 'no GPU';
      const since = c.createdAt ? `, since ${c.createdAt.slice(0, 16).replace('T', ' ')} UTC` : '';
      rows.push({
        type: 'section',
        text: { type: 'mrkdwn', text: `\`${c.project}\` is *${c.state}* on \`${h.hostId}\`, ${gpus}${since}${c.protected ? ' (protected)' : ''}${onlyHereLine(c)}` },
        accessory: retireButton(c.project),
      });
    }
  }
  const head = mrkdwnSection('*Your containers*');
  if (rows.length === 0) {
    return [head, mrkdwnSection('You have no containers right now. Launch one from an image below, or with `/ds01 launch <project>`.')];
  }
  const more = rows.length - MAX_ROWS;
  return [head, ...rows.slice(0, MAX_ROWS), ...(more > 0 ? [context(`and ${more} more: \`/ds01 status\` lists them all.`)] : [])];
}

/** Packages pip-installed only inside a running container: gone when it is retired unless added to the image. */
function onlyHereLine(c: HostSnapshot['containers'][number]): string {
  if (c.state !== 'running' || c.onlyHere.length === 0) return '';
  const names = c.onlyHere
    .slice(0, 10)
    .map((p) => `\`${p.replace(/[`&<>]/g, '')}\``)
    .join(', ');
  const more = c.onlyHere.length > 10 ? ` and ${c.onlyHere.length - 10} more` : '';
  return `\n:warning: Only in this container (gone when it is retired unless added to the image): ${names}${more}`;
}

function imageBlocks(user: { user: string; uid: number }, hosts: HostSnapshot[]): KnownBlock[] {
  const rows: KnownBlock[] = [];
  let count = 0;
  for (const h of hosts) {
    for (const i of h.images.filter((i) => i.uid === user.uid || i.user === user.user)) {
      count++;
      if (count > MAX_ROWS) continue;
      rows.push(mrkdwnSection(`\`${i.project}\`: image \`${i.image}\` on \`${h.hostId}\``), {
        type: 'actions',
        elements: [
          { ...button('Launch', HOME_ACTION.launch, i.project), style: 'primary' },
          button('Add packages', HOME_ACTION.addPackages, JSON.stringify({ project: i.project })),
        ],
      });
    }
  }
  const head = mrkdwnSection('*Your images*');
  if (count === 0) {
    return [head, mrkdwnSection("You have no images yet. `/ds01 launch <project>` builds one from the project's Dockerfile the first time.")];
  }
  const more = count - MAX_ROWS;
  return [
    head,
    context('An image is the permanent blueprint of a project: packages added to it survive every retirement.'),
    ...rows,
    ...(more > 0 ? [context(`and ${more} more: \`/ds01 status\` lists them all.`)] : []),
  ];
}

/** DS01 has no waiting queue: a launch gets a free GPU at once or is refused. Say which it would be. */
function gpuBlocks(hosts: HostSnapshot[], adminContact: string): KnownBlock[] {
  const head = mrkdwnSection('*GPUs right now*');
  if (hosts.length === 0) {
    return [head, mrkdwnSection(`:warning: No GPU host has reported in, so launches can't run right now. Please tell the DS01 admins: ${adminContact}`)];
  }
  const lines = hosts.map((h) => {
    const free = h.gpus.filter((g) => !g.holder).length;
    return `• \`${h.hostId}\`: ${free} of ${h.gpus.length} GPU${h.gpus.length === 1 ? '' : 's'} free`;
  });
  const totalFree = hosts.reduce((s, h) => s + h.gpus.filter((g) => !g.holder).length, 0);
  const verdict =
    totalFree === 0
      ? ':hourglass: Every GPU is taken, so a launch now joins the GPU queue and starts by itself when one frees up (you get a DM). `/ds01 queue` shows the line, `/ds01 gpus` who holds them.'
      : `A launch takes a free GPU straight away; when none is free it waits in the GPU queue. ${totalFree} free right now.`;
  return [head, mrkdwnSection(lines.join('\n')), context(verdict)];
}

function mostAskedBlocks(mostAsked: HomeInput['mostAsked']): KnownBlock[] {
  const head = mrkdwnSection('*Most asked questions*');
  if (mostAsked.length === 0) {
    return [head, mrkdwnSection('Nobody has asked me anything yet. Ask me in the *Messages* tab, for example _why did my packages disappear?_')];
  }
  return [
    head,
    ...mostAsked.map(
      ({ topic, count }): KnownBlock => ({
        type: 'section',
        text: { type: 'mrkdwn', text: `*${topic.title}*\n${count === 1 ? 'asked once' : `asked ${count} times`}` },
        accessory: button('Show answer', HOME_ACTION.showTopic, topic.id),
      }),
    ),
  ];
}

function retireButton(project: string): Button {
  return {
    ...button('Retire', HOME_ACTION.retire, project),
    style: 'danger',
    confirm: {
      title: { type: 'plain_text', text: `Retire ${project}?`.slice(0, 100) },
      text: {
        type: 'mrkdwn',
        text: `This stops and removes the \`${project}\` container and frees its GPU. Files in \`/workspace\` are kept; packages installed only inside the container are lost (I'll list them).`,
      },
      confirm: { type: 'plain_text', text: 'Retire' },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    },
  };
}

function button(text: string, actionId: string, value: string): Button {
  return { type: 'button', text: { type: 'plain_text', text: truncate(text), emoji: true }, action_id: actionId, value };
}

function truncate(text: string): string {
  return text.length > MAX_BUTTON_TEXT ? `${text.slice(0, MAX_BUTTON_TEXT - 1)}…` : text;
}

function mrkdwnSection(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text }] };
}

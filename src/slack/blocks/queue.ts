import type { KnownBlock } from '@slack/types';
import { placeText, type QueueEntry } from '../../queue/gpu-queue.js';

/** The GPU queue's buttons: one id each; the value is the waiting launch's request id. */
export const QUEUE_ACTION = { leave: 'gpu_queue_leave', remove: 'gpu_queue_remove' } as const;

type Message = { text: string; blocks: KnownBlock[] };

const WHY: Record<'no-gpu' | 'quota' | 'host-down', string> = {
  'no-gpu': 'No GPU you may use is free right now.',
  quota: "You're at your group's GPU or container limit, so this waits until one of your own containers ends; it doesn't hold up anyone behind you.",
  'host-down': 'The host it was going to stopped answering, so it is waiting for a GPU on another host.',
};

/** "3 min", "2 h 5 min". */
export function waited(sinceIso: string, now = Date.now()): string {
  const min = Math.max(0, Math.floor((now - Date.parse(sinceIso)) / 60_000));
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** The launch's progress message while it waits: its place, why, and [Leave queue]. */
export function launchWaitingMessage(a: {
  project: string;
  requestId: string;
  position: number | null;
  gpus: number;
  onHost: string | null;
  reason: 'no-gpu' | 'quota' | 'host-down';
}): Message {
  const place = a.position ? placeText(a.position, a.gpus, a.onHost) : `waiting for ${a.gpus} GPU${a.gpus === 1 ? '' : 's'} on ${a.onHost ?? 'any host'}`;
  const text = `Launch of \`${a.project}\` is in the GPU queue: ${place}.`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:rocket: *Launching \`${a.project}\`*` } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `:hourglass_flowing_sand: *${place.charAt(0).toUpperCase()}${place.slice(1)}.* ${WHY[a.reason]} It starts by itself when a GPU frees up, and I'll message you then. \`/ds01 queue\` shows the whole line.`,
        },
      },
      { type: 'actions', elements: [{ type: 'button', action_id: QUEUE_ACTION.leave, text: { type: 'plain_text', text: 'Leave queue' }, value: a.requestId }] },
    ],
  };
}

export function leftQueueMessage(project: string, byAdmin: string | null): Message {
  const text = byAdmin
    ? `The waiting launch of \`${project}\` was taken out of the GPU queue by ${byAdmin}. Nothing was started.`
    : `You left the GPU queue: \`${project}\` was not launched. Launch it again whenever you like.`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `:wave: ${text}` } }] };
}

export function gpuReadyMessage(project: string, host: string): Message {
  const text = `Your GPU is ready: \`${project}\` is running on ${host}.`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `:tada: ${text} The launch message above has the details.` } }] };
}

/** `/ds01 queue`: everyone's waiting launches, in the order they will start; admins get [Remove]. */
export function queueMessage(entries: QueueEntry[], viewer: string, admin: boolean, now = Date.now()): Message {
  if (entries.length === 0) {
    const text = 'Nobody is waiting for a GPU right now.';
    return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
  }
  const text = `${entries.length} launch${entries.length === 1 ? '' : 'es'} waiting for a GPU`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*GPU queue* — ${text}, in the order they will start (each person's first request before anyone's second).` } },
  ];
  for (const [i, e] of entries.slice(0, 40).entries()) {
    const line = `${i + 1}. *${e.owner.user}*${e.owner.user === viewer ? ' (you)' : ''} — \`${e.project}\`, ${e.gpus} GPU${e.gpus === 1 ? '' : 's'} on ${e.host ?? 'any host'}, waiting ${waited(e.enqueuedAt, now)}${e.pending ? ' (its host is still checking the project and building its image; it keeps its turn)' : ''}`;
    const section: KnownBlock = { type: 'section', text: { type: 'mrkdwn', text: line } };
    if (admin || e.owner.user === viewer) {
      section.accessory = {
        type: 'button',
        action_id: admin && e.owner.user !== viewer ? QUEUE_ACTION.remove : QUEUE_ACTION.leave,
        text: { type: 'plain_text', text: admin && e.owner.user !== viewer ? 'Remove' : 'Leave queue' },
        value: e.requestId,
      };
    }
    blocks.push(section);
  }
  if (entries.length > 40) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `…and ${entries.length - 40} more.` }] });
  return { text, blocks };
}

/** The viewer's own places in the queue, for `/ds01 status` and the App Home. */
export function myPlaces(entries: QueueEntry[], user: string): string[] {
  return entries.flatMap((e, i) => (e.owner.user === user ? [`• \`${e.project}\` — ${placeText(i + 1, e.gpus, e.host)}`] : []));
}

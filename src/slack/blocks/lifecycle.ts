import type { KnownBlock } from '@slack/types';
import type { EventOf, RetireReason } from '../../contract/jobs.js';
import { gpuLine } from './launch.js';
import { toldSentences } from './packages.js';

/** Retirement explanations, channel lines, limit warnings and keep-alive confirmations. */

export const REASON_TEXT: Record<RetireReason, string> = {
  user: 'you retired it',
  admin: 'an admin retired it',
  idle: 'it was idle for longer than your idle timeout',
  max_runtime: 'it reached the longest run your group allows',
  recreate: 'you asked to recreate it from the new image',
  hold_after_stop: 'it had been stopped for longer than DS01 keeps stopped containers',
};

const REASON_SHORT: Record<RetireReason, string> = {
  user: 'by user',
  admin: 'by admin',
  idle: 'idle',
  max_runtime: 'max runtime',
  recreate: 'recreated with a new image',
  hold_after_stop: 'stopped too long',
};

export function duration(seconds: number | null): string {
  if (seconds === null) return 'an unknown time';
  const m = Math.round(seconds / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** The value of an [Add to image] button: what the package modal opens pre-filled with. */
export function addToImageValue(project: string, python: string[]): string {
  const keep: string[] = [];
  for (const p of python) {
    if (JSON.stringify({ project, python: [...keep, p] }).length > 1900) break; // Slack's 2000-char value limit
    keep.push(p);
  }
  return JSON.stringify({ project, python: keep });
}

/** The owner's DM after a retirement: what happened, what survived, what was lost, and the fix. */
export function retiredMessage(e: EventOf<'container.retired'>, timeZone = 'UTC'): { text: string; blocks: KnownBlock[] } {
  const who = e.reason === 'admin' ? ` (${e.requestedBy})` : '';
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `:package: *\`${e.project}\` was retired* on ${e.host} because ${REASON_TEXT[e.reason]}${who}. It ran for ${duration(e.ranSeconds)}; its ${e.gpus.length === 1 ? 'GPU is' : 'GPUs are'} free again (${gpuLine(e.gpus)}).`,
      },
    },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `*What survived:* everything in \`/workspace\` (your project folder) and the image \`ds01-${e.owner.uid}/${e.project}:latest\`.` },
    },
  ];
  let text = `${e.project} was retired on ${e.host} because ${REASON_TEXT[e.reason]}.`;
  if (e.lostPackages.length > 0) {
    const shown = e.lostPackages
      .slice(0, 15)
      .map((p) => `\`${p}\``)
      .join(', ');
    const more = e.lostPackages.length > 15 ? ` and ${e.lostPackages.length - 15} more` : '';
    blocks.push(
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*What was lost:* packages you installed inside the container only: ${shown}${more}. A container is a temporary copy of the image, so they went with it. Put them into the image and every future container has them.`,
        },
      },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            style: 'primary',
            action_id: 'image_update_open',
            text: { type: 'plain_text', text: 'Add these to the image' },
            value: addToImageValue(e.project, e.lostPackages),
          },
        ],
      },
    );
    text += ` Packages lost: ${e.lostPackages.join(', ')}.`;
    // When the package notices had told them, say so: the loss was announced, not a surprise.
    const told = toldSentences(e, timeZone);
    if (told.length > 0) {
      blocks.splice(blocks.length - 1, 0, { type: 'context', elements: [{ type: 'mrkdwn', text: told.join(' ') }] });
      text += ` ${told.join(' ')}`;
    }
  } else if (e.packagesUnknown) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*What was lost:* I couldn't check — ${e.packagesUnknown}. Anything you \`pip install\`ed inside it and not in the image is gone.` },
    });
  } else {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '*What was lost:* nothing: every package in the container came from the image.' } });
  }
  if (!e.relaunch) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Start a fresh one any time with \`/ds01 launch ${e.project}\`.` }] });
  return { text, blocks };
}

/** One line for the notify channel. */
export function retiredChannelLine(e: EventOf<'container.retired'>): string {
  const freed = e.gpus.length ? e.gpus.map((g) => `GPU ${g.slot}`).join(', ') : 'no GPU';
  return `:recycle: ${e.owner.user}'s \`${e.project}\` on ${e.host} retired (${REASON_SHORT[e.reason]}${e.reason === 'admin' ? `: ${e.requestedBy}` : ''}) — freed ${freed} — ran ${duration(e.ranSeconds)}`;
}

export function keepaliveValue(project: string, hours: number): string {
  return JSON.stringify({ project, hours });
}

export function warningMessage(e: EventOf<'limit.warning'>, keepaliveHours: number): { text: string; blocks: KnownBlock[] } {
  const when = `${e.retireAt.slice(0, 16).replace('T', ' ')} UTC`;
  const what =
    e.limit === 'idle'
      ? `\`${e.project}\` on ${e.host} has been idle (GPU and CPU barely used) for ${e.percent}% of your idle timeout. It will be retired at about ${when} unless it gets busy again.`
      : `\`${e.project}\` on ${e.host} has used ${e.percent}% of the longest run your group allows. It will be retired at about ${when}.`;
  const text = `:alarm_clock: ${what}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: 'Files in `/workspace` survive a retirement; packages installed only in the container do not (`/ds01 image-update` keeps them).' },
      },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            style: 'primary',
            action_id: 'keepalive',
            text: { type: 'plain_text', text: `Keep alive ${keepaliveHours} h` },
            value: keepaliveValue(e.project, keepaliveHours),
          },
        ],
      },
    ],
  };
}

export function keepaliveSetMessage(e: EventOf<'keepalive.set'>): { text: string; blocks: KnownBlock[] } {
  const until = `${e.until.slice(0, 16).replace('T', ' ')} UTC`;
  const text = `:white_check_mark: \`${e.project}\` on ${e.host} will not be retired for idleness before ${until}.${e.capped ? ' That is the longest keep-alive DS01 allows.' : ''} (A keep-alive does not extend the longest run your group allows.)`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

export function lifecycleFailedMessage(e: EventOf<'job.failed'>): { text: string; blocks: KnownBlock[] } {
  const what = e.kind === 'retire' ? `Retiring \`${e.project}\`` : `Keeping \`${e.project}\` alive`;
  const text = `:warning: ${what} did not work: ${e.message}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/** Asked before a retirement that would lose packages: put them into the image first, or go ahead. */
export function retireConfirmMessage(e: EventOf<'retire.confirm'>): { text: string; blocks: KnownBlock[] } {
  const shown = e.lostPackages
    .slice(0, 15)
    .map((p) => `\`${p}\``)
    .join(', ');
  const more = e.lostPackages.length > 15 ? ` and ${e.lostPackages.length - 15} more` : '';
  const text = `Retiring \`${e.project}\` would lose packages you installed only inside the container: ${shown}${more}. Nothing has been stopped yet.`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:raised_hand: ${text}` } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: 'Add them to the image and every future container has them; or retire anyway (files in `/workspace` are kept either way).' },
      },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            style: 'primary',
            action_id: 'image_update_open',
            text: { type: 'plain_text', text: 'Add to image first' },
            value: addToImageValue(e.project, e.lostPackages),
          },
          {
            type: 'button',
            style: 'danger',
            action_id: 'retire_anyway',
            text: { type: 'plain_text', text: 'Retire anyway' },
            value: JSON.stringify({ project: e.project, host: e.host }),
          },
        ],
      },
    ],
  };
}

/**
 * The image-update message: one DM per build, rendered from the latest event and updated in
 * place (queued → building step k of n → ready, or the failing step with its log and a hint).
 * Pure functions; the listeners and the outbox decide when to post or update.
 */
import type { KnownBlock, ModalView } from '@slack/types';
import { z } from 'zod';
import type { EventOf } from '../../contract/jobs.js';
import { ProjectName } from '../../ds01/naming.js';
import { buildFailureDetail } from './launch.js';

export type Message = { text: string; blocks: KnownBlock[] };

export const IMAGE_ACTIONS = {
  /** [Add to image] buttons anywhere: value is `AddToImageValue` JSON. */
  open: 'image_update_open',
  /** [Recreate container] on a finished build: value is `RecreateValue` JSON. */
  recreate: 'recreate_container',
} as const;

/** block_id of the actions block holding [Recreate container] (dropped once it is clicked). */
export const RECREATE_BLOCK_ID = 'image_recreate';
/** block_id of the "still uses the old image" line above it (replaced once the button is clicked). */
export const OLD_IMAGE_BLOCK_ID = 'image_old_container';

const HostId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/);
const Spec = z.string().min(1).max(100);

/** Value of an [Add to image] button: which project, and packages to pre-fill. */
export const AddToImageValue = z.object({
  project: ProjectName,
  python: z.array(Spec).max(50).default([]),
  system: z.array(Spec).max(50).default([]),
});
export type AddToImageValue = z.infer<typeof AddToImageValue>;

/** Value of a [Recreate container] button. */
export const RecreateValue = z.object({ project: ProjectName, host: HostId, container: z.string().min(1).max(200) });
export type RecreateValue = z.infer<typeof RecreateValue>;

/** Parses a button value as JSON against `schema`; null when it is not one of ours. */
export function parseButtonValue<T>(schema: z.ZodType<T>, value: string | undefined): T | null {
  if (!value || value.length > 2000) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Slack mrkdwn: &, < and > must be escaped everywhere, backticks would end a code span. */
export function code(s: string): string {
  return '`' + s.replace(/`/g, "'").replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') + '`';
}

function list(specs: string[], max = 15): string {
  const shown = specs.slice(0, max).map(code).join(', ');
  return specs.length > max ? `${shown} and ${specs.length - max} more` : shown;
}

/** "Python: `einops`, `rich==13.7.1` · System: `ffmpeg`", or '' when both are empty. */
export function packagesLine(p: { python: string[]; system: string[] }): string {
  const parts: string[] = [];
  if (p.python.length > 0) parts.push(`Python: ${list(p.python)}`);
  if (p.system.length > 0) parts.push(`System: ${list(p.system)}`);
  return parts.join(' · ');
}

function header(project: string, host: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: `:package: *Updating the image for ${code(project)}* on ${code(host)}` } };
}

/** Posted by the bot right after the modal closes; the worker's events update it from here on. */
export function buildQueuedMessage(project: string, host: string, req: { python: string[]; system: string[]; noCache: boolean }): Message {
  const adding = packagesLine(req);
  return {
    text: `Image update for ${project} queued on ${host}.`,
    blocks: [
      header(project, host),
      { type: 'section', text: { type: 'mrkdwn', text: `*Adding* — ${adding}${req.noCache ? '\n_Rebuilding without cache: slower, every step runs again._' : ''}` } },
      { type: 'section', text: { type: 'mrkdwn', text: ":hourglass_flowing_sand: Queued — waiting for the host's worker…" } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'I update this message as the build goes; you do not need to keep Slack open.' }] },
    ],
  };
}

function bar(step: number, total: number): string {
  if (total <= 0) return '';
  const width = 10;
  const done = Math.max(0, Math.min(width, Math.round((Math.min(step, total) / total) * width)));
  return '▰'.repeat(done) + '▱'.repeat(width - done);
}

export function buildProgressMessage(e: EventOf<'build.progress'>): Message {
  const of = e.totalSteps > 0 ? ` of ${e.totalSteps}` : '';
  const line = e.line.trim() ? `\n${code(e.line.slice(0, 200))}` : '';
  return {
    text: `Building the image for ${e.project}: step ${e.step}${of}.`,
    blocks: [
      header(e.project, e.host),
      { type: 'section', text: { type: 'mrkdwn', text: `:hammer_and_wrench: *Building* — step ${e.step}${of}  ${bar(e.step, e.totalSteps)}${line}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'I update this message as the build goes; you do not need to keep Slack open.' }] },
    ],
  };
}

function seconds(s: number): string {
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  return `${Math.round(s / 60)} min`;
}

export function buildDoneMessage(e: EventOf<'build.done'>): Message {
  const added = packagesLine(e.added);
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `:white_check_mark: *The image for ${code(e.project)} is ready* on ${code(e.host)} — built in ${seconds(e.seconds)}.` } },
  ];
  if (added) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Added to the image* — ${added}` } });
  } else if (e.purpose === 'image-update') {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: 'No new lines were needed: the packages you listed were already in the Dockerfile (a new version you gave replaces the old one in place). The image was rebuilt from it.',
      },
    });
  }
  if (e.runningContainer) {
    blocks.push(...recreateBlocks(e.project, e.host, e.runningContainer));
  } else {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `Launch it with \`/ds01 launch ${e.project}\`: new containers start from the new image.` } });
  }
  if (added) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'The previous version of each file I edited is kept next to it with a `.bak` suffix.' }] });
  }
  const text = e.runningContainer
    ? `The image for ${e.project} is ready. Your running container ${e.runningContainer} still uses the old image: recreate it to get the new packages.`
    : `The image for ${e.project} is ready.`;
  return { text, blocks };
}

/**
 * "Your running container still uses the old image" and [Recreate container]: after a build, and
 * in a package notice once the image has the packages.
 */
export function recreateBlocks(project: string, host: string, container: string): KnownBlock[] {
  return [
    {
      type: 'section',
      block_id: OLD_IMAGE_BLOCK_ID,
      text: {
        type: 'mrkdwn',
        text: `:warning: Your running container ${code(container)} still uses the old image: recreate it to get the new packages (files in /workspace are kept; packages you pip-installed only inside it are not).`,
      },
    },
    {
      type: 'actions',
      block_id: RECREATE_BLOCK_ID,
      elements: [
        {
          type: 'button',
          action_id: IMAGE_ACTIONS.recreate,
          style: 'primary',
          text: { type: 'plain_text', text: 'Recreate container' },
          value: JSON.stringify({ project, host, container } satisfies RecreateValue),
          confirm: {
            title: { type: 'plain_text', text: 'Recreate the container?' },
            text: {
              type: 'mrkdwn',
              text: `${code(container)} will be stopped and started again from the new image. Files in /workspace are kept; anything you pip-installed only inside the container is lost.`,
            },
            confirm: { type: 'plain_text', text: 'Recreate' },
            deny: { type: 'plain_text', text: 'Not now' },
          },
        },
      ],
    },
  ];
}

export function buildFailedMessage(e: EventOf<'job.failed'>, adminContact: string): Message {
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `:x: *The image for ${code(e.project)} did not build* on ${code(e.host)}.\n${e.message}` } }];
  if (e.build) blocks.push(...buildFailureDetail(e.build));
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Your running containers are not affected. Fix what the log points at and run \`/ds01 image-update ${e.project}\` again; if you are stuck, ask ${adminContact}.`,
      },
    ],
  });
  return { text: `The image for ${e.project} did not build: ${e.message}`, blocks };
}

/** A short problem message in the build's DM (nothing was queued). */
export function buildNotStartedMessage(project: string, why: string): Message {
  return {
    text: `The image update for ${project} did not start: ${why}`,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `:warning: *The image update for ${code(project)} did not start.*\n${why}` } }],
  };
}

const BlockLike = z.looseObject({ type: z.string(), block_id: z.string().optional() });

/**
 * The build message after [Recreate container] was clicked: what it said before, without the
 * button, and a line saying the recreate is on its way.
 */
export function recreateRequestedMessage(previousBlocks: unknown, v: RecreateValue): Message {
  const parsed = z.array(BlockLike).safeParse(previousBlocks);
  const ours = new Set<string>([RECREATE_BLOCK_ID, OLD_IMAGE_BLOCK_ID]);
  const kept = parsed.success ? (parsed.data.filter((b) => !ours.has(b.block_id ?? '') && b.type !== 'actions') as unknown as KnownBlock[]) : [];
  const note = `:arrows_counterclockwise: Recreating ${code(v.container)} from the new image on ${code(v.host)}: it is on its way, and I'll post here when the new container is running. Files in /workspace are kept.`;
  return {
    text: `Recreating ${v.container} from the new image on ${v.host}.`,
    blocks: [...kept, { type: 'section', text: { type: 'mrkdwn', text: note } }],
  };
}

/** A modal with one message and a Close button (nothing to submit). */
export function imageUpdateNoticeView(text: string): ModalView {
  return {
    type: 'modal',
    callback_id: 'image_update_notice',
    title: { type: 'plain_text', text: 'Add packages' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 2900) } }],
  };
}

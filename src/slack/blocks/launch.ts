import type { KnownBlock } from '@slack/types';
import type { EventOf, GpuRef, LaunchStage } from '../../contract/jobs.js';

/**
 * The one launch message, rendered from the latest event: a checklist that walks through
 * building → allocating → starting → running, updated in place.
 */

type Step = { key: 'building' | LaunchStage | 'running'; label: string };
const STEPS: Step[] = [
  { key: 'building', label: 'Build the image' },
  { key: 'allocating', label: 'Allocate a GPU' },
  { key: 'starting', label: 'Start the container' },
  { key: 'running', label: 'Running' },
];

function checklist(current: Step['key'], built: boolean, failed = false, detail?: string): string {
  const order = STEPS.map((s) => s.key);
  const at = order.indexOf(current);
  return STEPS.filter((s) => s.key !== 'building' || built)
    .map((s) => {
      const i = order.indexOf(s.key);
      const mark =
        i < at || (s.key === 'running' && current === 'running') ? ':white_check_mark:' : i === at ? (failed ? ':x:' : ':hourglass_flowing_sand:') : ':white_small_square:';
      return `${mark} ${s.label}${i === at && detail ? ` — ${detail}` : ''}`;
    })
    .join('\n');
}

export function launchQueuedMessage(project: string, host: string): { text: string; blocks: KnownBlock[] } {
  const text = `Launch of \`${project}\` is queued on ${host}.`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:rocket: *Launching \`${project}\`* on \`${host}\`` } },
      { type: 'section', text: { type: 'mrkdwn', text: `:hourglass_flowing_sand: Queued — waiting for the host's worker…` } },
    ],
  };
}

export function launchProgressMessage(e: EventOf<'launch.progress'> | EventOf<'build.progress'>): { text: string; blocks: KnownBlock[] } {
  const stage = e.type === 'build.progress' ? 'building' : e.stage;
  const built = e.type === 'build.progress' ? true : e.built;
  const detail = e.type === 'build.progress' ? `step ${e.step}/${e.totalSteps}: \`${e.line.slice(0, 120).replace(/`/g, "'")}\`` : undefined;
  return {
    text: `Launching ${e.project}: ${stage}…`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:rocket: *Launching \`${e.project}\`* on \`${e.host}\`` } },
      { type: 'section', text: { type: 'mrkdwn', text: checklist(stage, built, false, detail) } },
    ],
  };
}

export function gpuLine(gpus: GpuRef[]): string {
  if (gpus.length === 0) return 'no GPU';
  return gpus.map((g) => `GPU ${g.slot} (${g.name}, \`${g.uuid}\`)`).join(', ');
}

export function launchRunningMessage(e: EventOf<'launch.running'>): { text: string; blocks: KnownBlock[] } {
  const headline = e.alreadyRunning
    ? `:information_source: *\`${e.project}\` is already running* on \`${e.host}\` — nothing new was started.`
    : `:white_check_mark: *\`${e.project}\` is running* on \`${e.host}\``;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: headline } }];
  if (!e.alreadyRunning) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: checklist('running', e.built) } });
  blocks.push(
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Host*\n${e.host}` },
        { type: 'mrkdwn', text: `*GPU*\n${gpuLine(e.gpus)}` },
        { type: 'mrkdwn', text: `*Container*\n\`${e.container}\`` },
        { type: 'mrkdwn', text: `*Image*\n\`${e.image}\`` },
      ],
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*Get in:* \`${e.engine ? `DOCKER_HOST=${e.engine} ` : ''}docker exec -it ${e.container} bash\` on ${e.host}, or in VS Code: _Dev Containers: Attach to Running Container…_ → \`${e.container}\`. Your project folder is at \`/workspace\`.`,
      },
    },
    {
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: `Packages you \`pip install\` inside the container are gone when it is retired: add them with \`/ds01 image-update ${e.project}\` to keep them.` },
      ],
    },
  );
  return { text: e.alreadyRunning ? `${e.project} is already running on ${e.host}.` : `${e.project} is running on ${e.host}.`, blocks };
}

export function launchFailedMessage(e: EventOf<'job.failed'>): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `:x: *Launch of \`${e.project}\` did not go through.*\n${e.message}` } }];
  if (e.build) blocks.push(...buildFailureDetail(e.build));
  return { text: `Launch of ${e.project} failed: ${e.message}`, blocks };
}

export function buildFailureDetail(build: { step: string; lastLines: string[]; hint: string }): KnownBlock[] {
  const tail = build.lastLines.join('\n').slice(-2500).replace(/```/g, "'''");
  return [
    { type: 'section', text: { type: 'mrkdwn', text: `*Failing step:* \`${build.step.slice(0, 200)}\`\n*What to try:* ${build.hint}` } },
    ...(tail ? [{ type: 'section', text: { type: 'mrkdwn', text: '```' + tail + '```' } } as KnownBlock] : []),
  ];
}

export function errorMessage(text: string): { text: string; blocks: KnownBlock[] } {
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `:warning: ${text}` } }] };
}

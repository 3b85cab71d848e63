import type { KnownBlock } from '@slack/types';

/** One line per subcommand: what it does, in a DS01 user's terms. */
export const COMMAND_LINES: Array<[string, string]> = [
  ['/ds01 launch <project> [--gpus N] [--rebuild]', 'Start a GPU container for a project (builds its image first if there is none).'],
  [
    '/ds01 retire <project> [--force]',
    'Stop and remove your container, free its GPU, and tell you which packages were only in the container (asks first when packages would be lost; `--force` does not). Admins add `--user <name>`.',
  ],
  ['/ds01 image-update <project>', 'Add Python or system packages to the project image, so they survive every retirement.'],
  ['/ds01 status', 'Your containers and images, and what each is using.'],
  ['/ds01 gpus', 'Which GPUs are free and who holds the others.'],
  ['/ds01 limits', "Your group's limits: GPUs, containers, idle and runtime."],
  ['/ds01 queue', 'Launches waiting for a GPU, in the order they will start.'],
  ['/ds01 keepalive <project> [hours]', 'Keep an idle container from being retired for a while.'],
  ['/ds01 help [question]', 'This list, or an answer to a question such as "why did my packages disappear?".'],
  ['/ds01 audit [user]', 'Admins: who did what to which container or image, newest first.'],
];

let text: string | undefined;

/** The same every time: built once. */
export function helpText(): string {
  text ??= ['*DS01 on Slack* — what I can do:', ...COMMAND_LINES.map(([cmd, what]) => `• \`${cmd}\` — ${what}`)].join('\n');
  return text;
}

export function helpBlocks(intro?: string): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  if (intro) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: intro } });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: helpText() } });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: 'An *image* is the permanent blueprint of a project; a *container* is a temporary copy of it with a GPU. Files in `/workspace` are kept; packages installed only in a container are not.',
      },
    ],
  });
  return blocks;
}

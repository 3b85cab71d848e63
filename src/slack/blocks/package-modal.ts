/**
 * The "Add packages" modal: Block Kit for `views.open`, and reading its submitted values back.
 * Pure functions; the handlers that open the modal and react to the submission live elsewhere.
 */
import type { KnownBlock, ModalView } from '@slack/types';
import { z } from 'zod';
import { Ds01Error, ErrorCode } from '../../shared/errors.js';

export const PACKAGE_MODAL_IDS = {
  callbackId: 'image_update_submit',
  pythonBlock: 'python',
  pythonAction: 'python_input',
  systemBlock: 'system',
  systemAction: 'system_input',
  optionsBlock: 'options',
  optionsAction: 'options_input',
  noCacheValue: 'no_cache',
} as const;

/** Slack's limits for the pieces used here. */
const SLACK = {
  title: 24,
  button: 24,
  inputMaxLength: 3000,
  privateMetadata: 3000,
  mrkdwnText: 3000,
} as const;

/** How many names of each kind the "already added" line lists before summarising. */
const MAX_LISTED = 20;

export interface PackageModalInput {
  project: string;
  host?: string;
  /** Packages the image already has; null while they are still being looked up. */
  alreadyAdded: { python: string[]; system: string[] } | null;
  prefill?: { python?: string[]; system?: string[]; noCache?: boolean };
  privateMetadata: string;
}

export function packageModalView(input: PackageModalInput): ModalView {
  if (input.privateMetadata.length > SLACK.privateMetadata) {
    throw new Ds01Error(ErrorCode.Internal, 'Something went wrong on our side while opening the form. Please try again.', {
      detail: `private_metadata is ${input.privateMetadata.length} chars (max ${SLACK.privateMetadata})`,
    });
  }

  const where = input.host ? ` on *${escapeMrkdwn(input.host)}*` : '';
  const noCacheOption = {
    text: { type: 'plain_text' as const, text: 'Rebuild without cache' },
    description: { type: 'plain_text' as const, text: 'Slower; use it when a rebuild does not pick up changes.' },
    value: PACKAGE_MODAL_IDS.noCacheValue,
  };

  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `*Project:* \`${escapeCode(input.project)}\`${where}\n` +
            'Packages added here go into the project image, so they are there every time you launch — unlike `pip install` inside a running container. The image is rebuilt when you press *Build image*.',
          SLACK.mrkdwnText,
        ),
      },
    },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncate(alreadyAddedText(input.alreadyAdded), SLACK.mrkdwnText) }],
    },
    {
      type: 'input',
      block_id: PACKAGE_MODAL_IDS.pythonBlock,
      optional: true,
      label: { type: 'plain_text', text: 'Python packages (pip)' },
      hint: { type: 'plain_text', text: 'One per line: a name from PyPI with an optional version, e.g. transformers[torch]>=4.40' },
      element: {
        type: 'plain_text_input',
        action_id: PACKAGE_MODAL_IDS.pythonAction,
        multiline: true,
        max_length: SLACK.inputMaxLength,
        placeholder: { type: 'plain_text', text: 'einops\nrich==13.7.1' },
        ...initialValue(input.prefill?.python),
      },
    },
    {
      type: 'input',
      block_id: PACKAGE_MODAL_IDS.systemBlock,
      optional: true,
      label: { type: 'plain_text', text: 'System packages (apt)' },
      hint: { type: 'plain_text', text: 'One per line: a Debian/Ubuntu package name, e.g. ffmpeg' },
      element: {
        type: 'plain_text_input',
        action_id: PACKAGE_MODAL_IDS.systemAction,
        multiline: true,
        max_length: SLACK.inputMaxLength,
        placeholder: { type: 'plain_text', text: 'ffmpeg\nlibsndfile1' },
        ...initialValue(input.prefill?.system),
      },
    },
    {
      type: 'input',
      block_id: PACKAGE_MODAL_IDS.optionsBlock,
      optional: true,
      label: { type: 'plain_text', text: 'Build options' },
      element: {
        type: 'checkboxes',
        action_id: PACKAGE_MODAL_IDS.optionsAction,
        options: [noCacheOption],
        ...(input.prefill?.noCache ? { initial_options: [noCacheOption] } : {}),
      },
    },
  ];

  return {
    type: 'modal',
    callback_id: PACKAGE_MODAL_IDS.callbackId,
    title: { type: 'plain_text', text: 'Add packages' },
    submit: { type: 'plain_text', text: 'Build image' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: input.privateMetadata,
    blocks,
  };
}

function alreadyAddedText(already: { python: string[]; system: string[] } | null): string {
  if (already === null) return 'Looking up the packages already in this image…';
  const list = (names: string[]): string => {
    const shown = names.slice(0, MAX_LISTED).map((n) => `\`${escapeCode(n)}\``);
    const more = names.length - shown.length;
    return shown.join(', ') + (more > 0 ? ` and ${more} more` : '');
  };
  const parts: string[] = [];
  if (already.python.length > 0) parts.push(`Python: ${list(already.python)}`);
  if (already.system.length > 0) parts.push(`System: ${list(already.system)}`);
  return parts.length > 0 ? `Already added — ${parts.join(' · ')}` : 'No packages added to this image yet.';
}

/** Prefill as whole lines, never cutting a package in half, within Slack's input limit. */
function initialValue(lines: string[] | undefined): { initial_value?: string } {
  if (!lines || lines.length === 0) return {};
  let value = '';
  for (const line of lines) {
    const next = value === '' ? line : `${value}\n${line}`;
    if (next.length > SLACK.inputMaxLength) break;
    value = next;
  }
  return value === '' ? {} : { initial_value: value };
}

/** Slack mrkdwn needs &, < and > escaped; anything else is shown as typed. */
function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** For text inside `code`: a backtick would end the code span early. */
function escapeCode(s: string): string {
  return escapeMrkdwn(s.replace(/`/g, "'"));
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export interface PackageModalValues {
  python: string;
  system: string;
  noCache: boolean;
}

const TextInputState = z.looseObject({ value: z.string().nullish() });
const CheckboxesState = z.looseObject({
  selected_options: z.array(z.looseObject({ value: z.string() })).nullish(),
});
const StateValues = z.record(z.string(), z.record(z.string(), z.unknown()));

/**
 * Reads `view.state.values` of a submitted package modal. Missing blocks or empty inputs read as
 * empty; a value of the wrong shape means the payload is not one we built, and is refused.
 */
export function readPackageModalValues(viewStateValues: unknown): PackageModalValues {
  const parsedValues = StateValues.safeParse(viewStateValues ?? {});
  if (!parsedValues.success) throw badShape('state.values');
  const values = parsedValues.data;

  const pick = <T>(block: string, action: string, schema: z.ZodType<T>): T | undefined => {
    const raw = values[block]?.[action];
    if (raw === undefined || raw === null) return undefined;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw badShape(`${block}.${action}`);
    return parsed.data;
  };

  const python = pick(PACKAGE_MODAL_IDS.pythonBlock, PACKAGE_MODAL_IDS.pythonAction, TextInputState);
  const system = pick(PACKAGE_MODAL_IDS.systemBlock, PACKAGE_MODAL_IDS.systemAction, TextInputState);
  const options = pick(PACKAGE_MODAL_IDS.optionsBlock, PACKAGE_MODAL_IDS.optionsAction, CheckboxesState);

  return {
    python: python?.value ?? '',
    system: system?.value ?? '',
    noCache: (options?.selected_options ?? []).some((o) => o.value === PACKAGE_MODAL_IDS.noCacheValue),
  };
}

function badShape(where: string): Ds01Error {
  return new Ds01Error(ErrorCode.BadInput, 'The form came back in a shape I do not recognise. Please close it and open it again.', {
    detail: `package modal: unexpected ${where}`,
  });
}

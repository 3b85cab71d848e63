import { describe, expect, it } from 'vitest';
import { PACKAGE_MODAL_IDS, packageModalView, readPackageModalValues } from '../../src/slack/blocks/package-modal.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';

const base = { project: 'demo', alreadyAdded: { python: [], system: [] }, privateMetadata: '{"p":"demo"}' };

type AnyRecord = Record<string, any>;

function blockById(view: AnyRecord, id: string): AnyRecord {
  const block = (view.blocks as AnyRecord[]).find((b) => b.block_id === id);
  expect(block, id).toBeDefined();
  return block!;
}

describe('packageModalView', () => {
  it('builds the modal with the agreed ids and Slack-sized texts', () => {
    const view = packageModalView({ ...base, host: 'ds01' }) as AnyRecord;
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: 'image_update_submit',
      title: { type: 'plain_text', text: 'Add packages' },
      submit: { type: 'plain_text', text: 'Build image' },
      close: { type: 'plain_text', text: 'Cancel' },
      private_metadata: '{"p":"demo"}',
    });
    for (const key of ['title', 'submit', 'close']) expect(view[key].text.length).toBeLessThanOrEqual(24);

    const python = blockById(view, 'python');
    expect(python).toMatchObject({
      type: 'input',
      optional: true,
      element: { type: 'plain_text_input', action_id: 'python_input', multiline: true, placeholder: { text: 'einops\nrich==13.7.1' } },
    });
    expect(python.element.max_length).toBeLessThanOrEqual(3000);
    expect(python.element.initial_value).toBeUndefined();

    const system = blockById(view, 'system');
    expect(system).toMatchObject({ type: 'input', optional: true, element: { type: 'plain_text_input', action_id: 'system_input', multiline: true } });
    expect(system.element.max_length).toBeLessThanOrEqual(3000);

    const options = blockById(view, 'options');
    expect(options).toMatchObject({
      type: 'input',
      optional: true,
      element: { type: 'checkboxes', action_id: 'options_input', options: [{ value: 'no_cache', text: { text: 'Rebuild without cache' } }] },
    });
    expect(options.element.initial_options).toBeUndefined();

    const text = JSON.stringify(view.blocks);
    expect(text).toContain('`demo`');
    expect(text).toContain('*ds01*');
    expect(text).toContain('No packages added to this image yet.');
  });

  it('exports the ids it uses', () => {
    expect(PACKAGE_MODAL_IDS).toEqual({
      callbackId: 'image_update_submit',
      pythonBlock: 'python',
      pythonAction: 'python_input',
      systemBlock: 'system',
      systemAction: 'system_input',
      optionsBlock: 'options',
      optionsAction: 'options_input',
      noCacheValue: 'no_cache',
    });
  });

  it('lists packages already added, escaped, and summarises long lists', () => {
    const python = Array.from({ length: 25 }, (_, i) => `pkg${i}`);
    const view = packageModalView({ ...base, alreadyAdded: { python: [...python, '<b>&`x'], system: ['ffmpeg'] } }) as AnyRecord;
    const context = (view.blocks as AnyRecord[]).find((b) => b.type === 'context')!;
    const text: string = context.elements[0].text;
    expect(text).toContain('Python: `pkg0`, `pkg1`');
    expect(text).toContain('and 6 more');
    expect(text).toContain('System: `ffmpeg`');
    expect(text).not.toContain('<b>');
  });

  it('prefills whole lines within Slack’s 3000-character limit, and the no-cache box', () => {
    const many = Array.from({ length: 50 }, (_, i) => `package-with-a-long-name-number-${i}==1.0.${i}`);
    const view = packageModalView({ ...base, prefill: { python: many, system: ['ffmpeg', 'sox'], noCache: true } }) as AnyRecord;
    const value: string = blockById(view, 'python').element.initial_value;
    expect(value.length).toBeLessThanOrEqual(3000);
    expect(many).toContain(value.split('\n').at(-1));
    expect(blockById(view, 'system').element.initial_value).toBe('ffmpeg\nsox');
    expect(blockById(view, 'options').element.initial_options).toEqual([expect.objectContaining({ value: 'no_cache' })]);
  });

  it('refuses private metadata over Slack’s limit', () => {
    expect(() => packageModalView({ ...base, privateMetadata: 'x'.repeat(3001) })).toThrow(Ds01Error);
  });
});

describe('readPackageModalValues', () => {
  it('reads a full submission', () => {
    const values = {
      python: { python_input: { type: 'plain_text_input', value: 'einops\nrich==13.7.1' } },
      system: { system_input: { type: 'plain_text_input', value: 'ffmpeg' } },
      options: {
        options_input: {
          type: 'checkboxes',
          selected_options: [{ text: { type: 'plain_text', text: 'Rebuild without cache', emoji: true }, value: 'no_cache' }],
        },
      },
    };
    expect(readPackageModalValues(values)).toEqual({ python: 'einops\nrich==13.7.1', system: 'ffmpeg', noCache: true });
  });

  it('treats empty and missing inputs as empty', () => {
    const values = {
      python: { python_input: { type: 'plain_text_input', value: null } },
      options: { options_input: { type: 'checkboxes', selected_options: [] } },
    };
    expect(readPackageModalValues(values)).toEqual({ python: '', system: '', noCache: false });
    expect(readPackageModalValues({})).toEqual({ python: '', system: '', noCache: false });
    expect(readPackageModalValues(undefined)).toEqual({ python: '', system: '', noCache: false });
  });

  it('refuses values of the wrong shape', () => {
    for (const bad of [{ python: { python_input: { value: 42 } } }, { options: { options_input: { selected_options: 'no_cache' } } }, { python: 'einops' }, 'nonsense']) {
      let thrown: unknown;
      try {
        readPackageModalValues(bad);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(Ds01Error);
      expect((thrown as Ds01Error).code).toBe(ErrorCode.BadInput);
    }
  });
});

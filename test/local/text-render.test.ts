import { describe, expect, it } from 'vitest';
import { modalQuestions, modalState, plainMrkdwn, renderBlocks } from '../../src/local/text-render.js';
import { packageModalView } from '../../src/slack/blocks/package-modal.js';

describe('Block Kit as text for the local console', () => {
  it('prints blocks in order and collects buttons from sections and action rows', () => {
    const r = renderBlocks({
      text: 'fallback',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'demo' } },
        {
          type: 'section',
          block_id: 's1',
          text: { type: 'mrkdwn', text: 'Hi <@U0ALICE>, see <https://x.org|the docs>' },
          accessory: { type: 'button', action_id: 'a1', value: 'v1', text: { type: 'plain_text', text: 'Open' } },
        },
        { type: 'divider' },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'small print' }] },
        {
          type: 'actions',
          block_id: 'b2',
          elements: [
            { type: 'button', action_id: 'keep', value: 'demo', text: { type: 'plain_text', text: 'Keep alive' } },
            { type: 'button', action_id: 'add', value: '{"p":1}', text: { type: 'plain_text', text: 'Add to image' } },
          ],
        },
      ],
    });
    expect(r.lines).toEqual(['== demo ==', 'Hi @U0ALICE, see the docs (https://x.org)', '---', '  small print']);
    expect(r.buttons.map((b) => [b.label, b.action_id, b.value, b.block_id])).toEqual([
      ['Open', 'a1', 'v1', 's1'],
      ['Keep alive', 'keep', 'demo', 'b2'],
      ['Add to image', 'add', '{"p":1}', 'b2'],
    ]);
  });

  it('falls back to the text when there are no blocks', () => {
    expect(renderBlocks({ text: 'plain *reply*' }).lines).toEqual(['plain *reply*']);
  });

  it('keeps a literal <project> in a usage line, and unescapes &lt; &gt; &amp;', () => {
    expect(plainMrkdwn('`/ds01 launch <project>` &lt;b&gt; &amp; <!here>')).toBe('`/ds01 launch <project>` <b> & !here');
  });

  it('mrkdwn links stay linear on long hostile input', () => {
    const s = '<https://'.repeat(20_000) + '|'.repeat(50_000);
    expect(plainMrkdwn(s).length).toBe(s.length);
  });

  it('the package modal becomes questions, and the answers its view.state the handler reads', () => {
    const view = packageModalView({ project: 'demo', host: 'gpu1', privateMetadata: '{"project":"demo"}', alreadyAdded: { python: [], system: [] } }) as unknown as Record<
      string,
      unknown
    >;
    const qs = modalQuestions(view);
    expect(qs.map((q) => q.kind)).toContain('text');
    const python = qs.findIndex((q) => q.action_id === 'python_input');
    expect(python).toBeGreaterThanOrEqual(0);
    const answers = qs.map((q, i) => (i === python ? 'requests==2.31.0' : q.kind === 'checkboxes' ? '1' : ''));
    const state = modalState(qs, answers);
    expect(state[qs[python]!.block_id]).toEqual({ python_input: { type: 'plain_text_input', value: 'requests==2.31.0' } });
    const boxes = qs.find((q) => q.kind === 'checkboxes');
    if (boxes) expect((state[boxes.block_id]![boxes.action_id] as { selected_options: unknown[] }).selected_options).toHaveLength(1);
  });
});

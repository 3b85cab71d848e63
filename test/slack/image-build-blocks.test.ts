import { describe, expect, it } from 'vitest';
import type { EventOf } from '../../src/contract/jobs.js';
import {
  AddToImageValue,
  buildDoneMessage,
  buildFailedMessage,
  buildNotStartedMessage,
  buildProgressMessage,
  buildQueuedMessage,
  imageUpdateNoticeView,
  parseButtonValue,
  recreateRequestedMessage,
  RecreateValue,
} from '../../src/slack/blocks/build.js';
import { readModalMetadata } from '../../src/slack/commands/image-update.js';

type AnyRecord = Record<string, any>;

const base = {
  requestId: 'r123456',
  host: 'gpu1',
  owner: { slackUserId: 'U0ALICE', user: 'alice', uid: 1001 },
  project: 'demo',
  reply: { channel: 'D0ALICE', ts: '1.000001' },
  at: '2024-01-01T00:00:00.000Z',
};

const done = (over: Partial<EventOf<'build.done'>> = {}): EventOf<'build.done'> => ({
  type: 'build.done',
  ...base,
  purpose: 'image-update',
  image: 'ds01-1001/demo:latest',
  added: { python: ['einops', 'rich>=13'], system: ['ffmpeg'] },
  runningContainer: null,
  seconds: 42,
  ...over,
});

const textOf = (m: { text: string; blocks: unknown }) => `${m.text}\n${JSON.stringify(m.blocks)}`;
const actionsOf = (blocks: unknown) => (blocks as AnyRecord[]).filter((b) => b.type === 'actions');

describe('the image-update build message', () => {
  it('queued: names the project, the host and the packages, escaped for mrkdwn', () => {
    const m = buildQueuedMessage('demo', 'gpu1', { python: ['einops', 'rich>=13', 'a<b'], system: ['ffmpeg'], noCache: true });
    const t = textOf(m);
    expect(t).toContain('Updating the image for `demo`* on `gpu1`');
    expect(t).toContain('`einops`');
    expect(t).toContain('`rich&gt;=13`');
    expect(t).toContain('`a&lt;b`');
    expect(t).toContain('`ffmpeg`');
    expect(t).toMatch(/without cache/);
    expect(t).toMatch(/Queued/);
  });

  it('progress: shows the current step of the total and its instruction, without breaking the code span', () => {
    const m = buildProgressMessage({ type: 'build.progress', ...base, purpose: 'image-update', step: 3, totalSteps: 7, line: 'RUN echo `id` > /x' });
    const t = textOf(m);
    expect(t).toContain('step 3 of 7');
    expect(t).toContain("`RUN echo 'id' &gt; /x`");
    expect(m.text).toBe('Building the image for demo: step 3 of 7.');
  });

  it('success without a running container: what was added, and how to use it', () => {
    const m = buildDoneMessage(done());
    const t = textOf(m);
    expect(t).toContain('The image for `demo` is ready');
    expect(t).toContain('42 s');
    expect(t).toContain('`einops`, `rich&gt;=13`');
    expect(t).toContain('/ds01 launch demo');
    expect(t).not.toMatch(/old image/);
    expect(actionsOf(m.blocks)).toHaveLength(0);
  });

  it('success with a running container: says it still uses the old image and offers [Recreate container]', () => {
    const m = buildDoneMessage(done({ runningContainer: 'demo._.1001' }));
    expect(textOf(m)).toContain(
      'Your running container `demo._.1001` still uses the old image: recreate it to get the new packages (files in /workspace are kept; packages you pip-installed only inside it are not).',
    );
    const [actions] = actionsOf(m.blocks);
    const button = actions!.elements[0];
    expect(button).toMatchObject({ type: 'button', action_id: 'recreate_container', text: { text: 'Recreate container' } });
    expect(button.confirm.title.text.length).toBeLessThanOrEqual(100);
    expect(RecreateValue.parse(JSON.parse(button.value))).toEqual({ project: 'demo', host: 'gpu1', container: 'demo._.1001' });
  });

  it('success with nothing new to add says so instead of an empty list', () => {
    const t = textOf(buildDoneMessage(done({ added: { python: [], system: [] } })));
    expect(t).toMatch(/No new lines were needed/);
    expect(t).not.toMatch(/Added to the image/);
  });

  it('failure: the message, the failing step, the last log lines and the hint (shared with launch)', () => {
    const m = buildFailedMessage(
      {
        type: 'job.failed',
        ...base,
        kind: 'build',
        code: 'build_failed',
        message: 'The image for `demo` did not build: step 5/7 (RUN pip install nonexistent-pkg) failed.',
        build: {
          step: 'step 5/7 (RUN pip install nonexistent-pkg)',
          lastLines: ['Collecting nonexistent-pkg', 'ERROR: No matching distribution found for nonexistent-pkg'],
          hint: 'pip found no matching distribution: check the name and version on PyPI.',
        },
      },
      '#ds01-help',
    );
    const t = textOf(m);
    expect(t).toContain('did not build');
    expect(t).toContain('*Failing step:* `step 5/7 (RUN pip install nonexistent-pkg)`');
    expect(t).toContain('No matching distribution found for nonexistent-pkg');
    expect(t).toContain('*What to try:* pip found no matching distribution');
    expect(t).toContain('/ds01 image-update demo');
    expect(t).toContain('#ds01-help');
  });

  it('failure without build details (no Dockerfile, unknown project) is the sentence alone', () => {
    const m = buildFailedMessage({ type: 'job.failed', ...base, kind: 'build', code: 'no_dockerfile', message: 'Project `demo` has no Dockerfile.' }, '#ds01-help');
    expect(textOf(m)).toContain('has no Dockerfile');
    expect(textOf(m)).not.toContain('Failing step');
  });

  it('after [Recreate container] the button and the old-image line are gone and the recreate is announced', () => {
    const before = buildDoneMessage(done({ runningContainer: 'demo._.1001' }));
    const after = recreateRequestedMessage(JSON.parse(JSON.stringify(before.blocks)), { project: 'demo', host: 'gpu1', container: 'demo._.1001' });
    const t = textOf(after);
    expect(actionsOf(after.blocks)).toHaveLength(0);
    expect(t).not.toMatch(/still uses the old image/);
    expect(t).toContain('is ready');
    expect(t).toMatch(/Recreating `demo._.1001` from the new image on `gpu1`: it is on its way/);
    // Blocks that are not ours (or no blocks at all) do not break it.
    expect(recreateRequestedMessage('nonsense', { project: 'demo', host: 'gpu1', container: 'demo._.1001' }).blocks).toHaveLength(1);
  });

  it('not started and notice texts carry the reason', () => {
    expect(textOf(buildNotStartedMessage('demo', 'No GPU host is online right now.'))).toContain('No GPU host is online right now.');
    const view = imageUpdateNoticeView('You are not registered.') as AnyRecord;
    expect(view.submit).toBeUndefined();
    expect(view.close.text).toBe('Close');
  });
});

describe('button values and modal metadata', () => {
  it('reads an [Add to image] value, defaulting the lists', () => {
    expect(parseButtonValue(AddToImageValue, '{"project":"demo","python":["einops==0.7.0"]}')).toEqual({ project: 'demo', python: ['einops==0.7.0'], system: [] });
  });

  it('refuses values that are not ours', () => {
    for (const v of [
      undefined,
      '',
      'not json',
      '{"project":"../../etc"}',
      '{"project":"demo","python":"einops"}',
      '{"project":"demo","python":[' + '"x",'.repeat(60) + '"x"]}',
      'x'.repeat(3000),
    ]) {
      expect(parseButtonValue(AddToImageValue, v), String(v).slice(0, 40)).toBeNull();
    }
    expect(parseButtonValue(RecreateValue, '{"project":"demo","host":"gpu1; rm -rf /","container":"demo._.1001"}')).toBeNull();
  });

  it('reads the modal metadata back only when it has the agreed shape', () => {
    expect(readModalMetadata('{"project":"demo","owner":"U0ALICE","host":"gpu1"}')).toEqual({ project: 'demo', owner: 'U0ALICE', host: 'gpu1' });
    expect(readModalMetadata('{"project":"demo","owner":"U0ALICE"}')).toEqual({ project: 'demo', owner: 'U0ALICE' });
    for (const raw of [undefined, '', '{', '{"project":"Demo!","owner":"U0ALICE"}', '{"project":"demo"}', '{"project":"demo","owner":"U0ALICE","host":"../x"}']) {
      expect(readModalMetadata(raw), String(raw)).toBeNull();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { HostSnapshot } from '../../src/contract/hosts.js';
import { Ds01Event, type EventOf } from '../../src/contract/jobs.js';
import { AddToImageValue, parseButtonValue } from '../../src/slack/blocks/build.js';
import { homeView } from '../../src/slack/blocks/home.js';
import { retiredMessage } from '../../src/slack/blocks/lifecycle.js';
import { NotNeededValue, notNeededMessage, packagesNoticeMessage, whenTold } from '../../src/slack/blocks/packages.js';
import { gpusMessage } from '../../src/slack/blocks/status.js';
import { messageText } from '../support/harness.js';

const CID = 'a'.repeat(64);
const owner = { slackUserId: 'U0ALICE', user: 'alice', uid: 1001 };

function notice(over: Partial<EventOf<'packages.noticed'>> = {}): EventOf<'packages.noticed'> {
  return Ds01Event.parse({
    type: 'packages.noticed',
    requestId: 'pw-aaaaaaaaaaaaaaaa-1',
    host: 'gpu01',
    owner,
    project: 'demo',
    reply: null,
    at: '2026-11-24T10:00:00.000Z',
    container: 'demo._.1001',
    containerId: CID,
    pending: [
      { name: 'einops', version: '0.7.0' },
      { name: 'rich', version: '13.7.1' },
    ],
    added: [],
    ...over,
  }) as EventOf<'packages.noticed'>;
}

type Btn = { action_id: string; value: string; text: { text: string } };
const buttonsOf = (blocks: unknown[]) => (blocks as Array<{ type: string; elements?: Btn[] }>).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);

describe('package notice message (pure)', () => {
  it('names the packages with versions, where, and why; [Add to image] pre-fills exact versions; [Not needed] names the container by id', () => {
    const m = packagesNoticeMessage(notice());
    const text = messageText(m as unknown as Record<string, unknown>);
    expect(text).toContain('You installed `einops 0.7.0` and `rich 13.7.1` inside `demo` on gpu01');
    expect(text).toMatch(/only in this container and will be gone when it is retired/);
    expect(text).toMatch(/blueprint/);
    const [add, notNeeded] = buttonsOf(m.blocks);
    expect(add!.action_id).toBe('image_update_open');
    expect(add!.text.text).toBe('Add to image');
    expect(parseButtonValue(AddToImageValue, add!.value)).toEqual({ project: 'demo', python: ['einops==0.7.0', 'rich==13.7.1'], system: [] });
    expect(notNeeded!.action_id).toBe('packages_not_needed');
    expect(parseButtonValue(NotNeededValue, notNeeded!.value)).toEqual({ project: 'demo', host: 'gpu01', cid: CID, names: ['einops', 'rich'] });
  });

  it('once the image has them: says so and offers [Recreate container]', () => {
    const m = packagesNoticeMessage(notice({ pending: [], added: [{ name: 'einops', version: '0.7.0' }] }));
    const text = messageText(m as unknown as Record<string, unknown>);
    expect(text).toContain('The image for `demo` now has `einops 0.7.0`');
    expect(text).toContain('`demo._.1001` still uses the old image');
    expect(buttonsOf(m.blocks).map((b) => b.action_id)).toEqual(['recreate_container']);
  });

  it("button values stay under Slack's 2000 characters with many packages", () => {
    const pending = Array.from({ length: 100 }, (_, i) => ({ name: `package-with-a-long-name-${i}`, version: '1.2.3.post4' }));
    for (const b of buttonsOf(packagesNoticeMessage(notice({ pending })).blocks)) expect(b.value.length).toBeLessThan(2000);
    expect(messageText(packagesNoticeMessage(notice({ pending })) as unknown as Record<string, unknown>)).toMatch(/and 85 more/);
  });

  it('[Not needed] leaves a line saying what was silenced, without buttons', () => {
    const m = notNeededMessage('demo', ['einops', 'rich']);
    expect(m.text).toMatch(/won't mention `einops`, `rich` again/);
    expect(buttonsOf(m.blocks)).toEqual([]);
  });
});

describe('when the user was told, at retirement', () => {
  it('today, yesterday, a weekday within the week, else a date', () => {
    const ref = '2026-11-26T15:00:00.000Z'; // a Thursday
    expect(whenTold('2026-11-26T09:00:00.000Z', ref, 'UTC')).toBe('earlier today');
    expect(whenTold('2026-11-25T09:00:00.000Z', ref, 'UTC')).toBe('yesterday');
    expect(whenTold('2026-11-24T09:00:00.000Z', ref, 'UTC')).toBe('on Tuesday');
    expect(whenTold('2026-11-10T09:00:00.000Z', ref, 'UTC')).toBe('on 10 Nov');
  });

  it('the retirement DM says when, and whether they answered', () => {
    const e = Ds01Event.parse({
      type: 'container.retired',
      requestId: 'lc-abcdef-idle',
      host: 'gpu01',
      owner,
      project: 'demo',
      reply: null,
      at: '2026-11-26T15:00:00.000Z',
      container: 'demo._.1001',
      reason: 'idle',
      requestedBy: 'ds01',
      gpus: [],
      ranSeconds: 3600,
      lostPackages: ['einops==0.7.0', 'rich==13.7.1', 'tqdm==4.66.0'],
      packagesUnknown: null,
      relaunch: false,
      toldAbout: [
        { package: 'einops==0.7.0', at: '2026-11-24T10:00:00.000Z', answer: 'none' },
        { package: 'rich==13.7.1', at: '2026-11-24T10:00:00.000Z', answer: 'not_needed' },
      ],
    }) as EventOf<'container.retired'>;
    const text = messageText(retiredMessage(e) as unknown as Record<string, unknown>);
    expect(text).toContain('You were told about `einops==0.7.0` on Tuesday; not added.');
    expect(text).toContain('You were told about `rich==13.7.1` on Tuesday and answered Not needed.');
    expect(text).not.toMatch(/told about `tqdm/);
    // An older worker's event (no toldAbout) still renders.
    const { toldAbout: _, ...old } = e;
    expect(messageText(retiredMessage(Ds01Event.parse(old) as EventOf<'container.retired'>) as unknown as Record<string, unknown>)).not.toMatch(/You were told/);
  });
});

describe('App Home and the admin view', () => {
  const snap = HostSnapshot.parse({
    hostId: 'gpu1',
    updatedAt: '2026-11-24T10:00:00.000Z',
    gpuMode: 'fake',
    gpus: [],
    containers: [
      { name: 'demo._.1001', user: 'alice', project: 'demo', state: 'running', image: 'i', gpuUuids: [], createdAt: null, protected: false, onlyHere: ['einops==0.7.0'] },
      { name: 'old._.1001', user: 'alice', project: 'old', state: 'exited', image: 'i', gpuUuids: [], createdAt: null, protected: false, onlyHere: ['x==1'] },
      { name: 'plain._.1001', user: 'alice', project: 'plain', state: 'running', image: 'i', gpuUuids: [], createdAt: null, protected: false },
    ],
    images: [],
  });

  it('the Home tab lists, per running container, the packages only in it', () => {
    const view = JSON.stringify(homeView({ slackUserId: 'U0ALICE', user: { user: 'alice', uid: 1001 }, hosts: [snap], mostAsked: [], adminContact: '#ds01-help' }).blocks);
    expect(view).toContain('Only in this container (gone when it is retired unless added to the image): `einops==0.7.0`');
    expect(view).not.toContain('x==1');
    expect(view.match(/Only in this container/g)).toHaveLength(1);
  });

  it('admins see the share of in-container packages that reached an image before retirement', () => {
    expect(messageText(gpusMessage([snap], { added: 3, lost: 1 }) as unknown as Record<string, unknown>)).toContain(
      'reached an image before their container was retired: 3 of 4 (75 %)',
    );
    expect(messageText(gpusMessage([snap], { added: 0, lost: 0 }) as unknown as Record<string, unknown>)).toMatch(/none counted at a retirement yet/);
    expect(messageText(gpusMessage([snap]) as unknown as Record<string, unknown>)).not.toMatch(/reached an image/);
  });
});

import { describe, expect, it } from 'vitest';
import { parseDs01Config } from '../../src/config/ds01-config.js';
import { MAX_LISTED, dayOf, declaredVersions, inQuietHours, noticeLists, parseUserSite, planNotice, type WatchState } from '../../workers/lifecycle/package-notice-plan.js';

const empty = (): WatchState => ({ offered: new Map(), silenced: new Set(), added: new Map() });
const site = (...specs: string[]) => specs.map((s) => ({ name: s.split('==')[0]!, version: s.split('==')[1]! }));

describe('reading pip list --user (text the container owner controls)', () => {
  it('keeps plain pip words, normalises names, sorts', () => {
    expect(parseUserSite('[{"name": "Rich", "version": "13.7.1"}, {"name": "einops", "version": "0.7.0"}, {"name": "Foo_Bar.baz", "version": "1.0+cpu"}]')).toEqual([
      { name: 'einops', version: '0.7.0' },
      { name: 'foo-bar-baz', version: '1.0+cpu' },
      { name: 'rich', version: '13.7.1' },
    ]);
    expect(parseUserSite('')).toEqual([]);
  });

  it('drops entries that are not pip words (markup, huge, wrong types) and refuses what is not a list', () => {
    const rows = [
      { name: '<!channel>', version: '1' },
      { name: 'ok', version: '`1`' },
      { name: 'x'.repeat(101), version: '1' },
      { name: 7, version: '1' },
      null,
      { name: 'fine', version: '2.0' },
    ];
    expect(parseUserSite(JSON.stringify(rows))).toEqual([{ name: 'fine', version: '2.0' }]);
    expect(parseUserSite('{"name": "x"}')).toBeNull();
    expect(parseUserSite('not json')).toBeNull();
  });

  it(`looks at ${MAX_LISTED} packages at most`, () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ name: `p${i}`, version: '1' }));
    expect(parseUserSite(JSON.stringify(rows))).toHaveLength(MAX_LISTED);
  });
});

describe('what to tell the owner', () => {
  const declared = declaredVersions(['numpy==1.26.4', 'Einops', 'rich==13.7.1']);

  it('reads what the Dockerfile declares: pinned versions, or any version', () => {
    expect([...declared]).toEqual([
      ['numpy', '1.26.4'],
      ['einops', null],
      ['rich', '13.7.1'],
    ]);
  });

  it('offers packages not in the image, once; a package the image has at that version counts as reached', () => {
    const s = empty();
    const plan = planNotice(site('torchvision==0.18.0', 'numpy==1.26.4', 'rich==13.7.1'), declared, s);
    expect(plan.fresh.map((p) => p.name)).toEqual(['torchvision']);
    expect(plan.onlyHere.map((p) => p.name)).toEqual(['torchvision']);
    expect(plan.reached.map((p) => p.name)).toEqual(['numpy', 'rich']);
    expect(plan.nowAdded).toEqual([]); // never offered: nothing to update

    s.offered.set('torchvision', { v: '0.18.0', at: '2026-11-24T10:00:00.000Z' });
    expect(planNotice(site('torchvision==0.18.0'), declared, s).fresh).toEqual([]);
  });

  it('a different version than the Dockerfile pins is still only in the container', () => {
    expect(planNotice(site('numpy==2.0.0'), declared, empty()).fresh).toEqual([{ name: 'numpy', version: '2.0.0' }]);
  });

  it('silenced packages are never offered; offered ones that reach the image are reported once', () => {
    const s = empty();
    s.silenced.add('tqdm');
    s.offered.set('einops', { v: '0.7.0', at: '2026-11-24T10:00:00.000Z' });
    const plan = planNotice(site('tqdm==4.0.0', 'einops==0.7.0'), declared, s);
    expect(plan.fresh).toEqual([]);
    expect(plan.nowAdded).toEqual([{ name: 'einops', version: '0.7.0' }]);
    s.added.set('einops', '0.7.0');
    expect(planNotice(site('tqdm==4.0.0', 'einops==0.7.0'), declared, s).nowAdded).toEqual([]);
  });

  it('the message lists offered, unanswered packages still there, and offered ones the image now has', () => {
    const s = empty();
    for (const n of ['a', 'b', 'c', 'gone']) s.offered.set(n, { v: '1', at: '2026-11-24T10:00:00.000Z' });
    s.silenced.add('b');
    s.added.set('c', '1');
    s.added.set('never-offered', '1');
    expect(noticeLists(site('a==1', 'b==1', 'c==1', 'new==1'), s)).toEqual({ pending: [{ name: 'a', version: '1' }], added: [{ name: 'c', version: '1' }] });
  });
});

describe('quiet hours and the daily cap', () => {
  const at = (iso: string) => Date.parse(iso);

  it('a range past midnight, in the configured time zone', () => {
    const cfg = { quiet_hours: { from: '22:00', to: '07:00' }, timezone: 'Europe/Berlin' };
    expect(inQuietHours(at('2026-11-24T21:30:00Z'), cfg)).toBe(true); // 22:30 in Berlin
    expect(inQuietHours(at('2026-11-24T05:59:00Z'), cfg)).toBe(true); // 06:59
    expect(inQuietHours(at('2026-11-24T06:00:00Z'), cfg)).toBe(false); // 07:00
    expect(inQuietHours(at('2026-11-24T12:00:00Z'), cfg)).toBe(false);
  });

  it('a range within a day, and none configured', () => {
    expect(inQuietHours(at('2026-11-24T12:30:00Z'), { quiet_hours: { from: '12:00', to: '13:00' }, timezone: 'UTC' })).toBe(true);
    expect(inQuietHours(at('2026-11-24T13:00:00Z'), { quiet_hours: { from: '12:00', to: '13:00' }, timezone: 'UTC' })).toBe(false);
    expect(inQuietHours(at('2026-11-24T12:30:00Z'), { timezone: 'UTC' })).toBe(false);
  });

  it('the day the cap counts is the local day', () => {
    expect(dayOf(at('2026-11-24T23:30:00Z'), 'UTC')).toBe('2026-11-24');
    expect(dayOf(at('2026-11-24T23:30:00Z'), 'Europe/Berlin')).toBe('2026-11-25');
  });

  it('config: defaults when absent; bad values are refused with the key named', () => {
    const base = 'workspaces: /home/{user}/workspace\nlimits_file: l.yaml\nusers:\n  - { slack_id: U0ALICE, user: alice, uid: 1001 }\n';
    expect(parseDs01Config(base, '/tmp').package_notices).toEqual({ timezone: 'UTC', daily_cap: 5, off_for_groups: [] });
    const set = parseDs01Config(
      `${base}package_notices:\n  quiet_hours: { from: "22:00", to: "07:00" }\n  timezone: Europe/Berlin\n  daily_cap: 2\n  off_for_groups: [admin]\n`,
      '/tmp',
    );
    expect(set.package_notices).toEqual({ quiet_hours: { from: '22:00', to: '07:00' }, timezone: 'Europe/Berlin', daily_cap: 2, off_for_groups: ['admin'] });
    expect(() => parseDs01Config(`${base}package_notices:\n  quiet_hours: { from: "25:00", to: "07:00" }\n`, '/tmp')).toThrow(/package_notices\.quiet_hours\.from.*22:00/);
    expect(() => parseDs01Config(`${base}package_notices:\n  timezone: Mars/Olympus\n`, '/tmp')).toThrow(/package_notices\.timezone.*time zone/);
  });
});

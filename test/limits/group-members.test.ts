import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDs01Config } from '../../src/config/ds01-config.js';
import { effectiveLimits, loadResourceLimits } from '../../src/limits/resource-limits.js';
import { parseMembers, readGroupMembers, withGroupsFromMembers } from '../../src/limits/group-members.js';
import { LIMITS_FILE } from '../support/paths.js';

describe("group membership from DS01's groups/<group>.members files", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ds01-groups-'));
  const limitsFile = path.join(dir, 'resource-limits.yaml');
  copyFileSync(LIMITS_FILE, limitsFile);
  mkdirSync(path.join(dir, 'groups'));
  writeFileSync(path.join(dir, 'groups', 'researcher.members'), '# PhD students\ncarol\n204214@hertie-school.lan   # numeric id\n\n');
  writeFileSync(path.join(dir, 'groups', 'student.members'), 'dave\ncarol\n');
  writeFileSync(path.join(dir, 'groups', 'archived.members'), 'erin\n');
  writeFileSync(path.join(dir, 'groups', 'archived2.members'), 'frank\n'); // a group resource-limits.yaml does not define
  const config = parseDs01Config(
    [
      'workspaces: /home/{user}/workspace',
      `limits_file: ${limitsFile}`,
      'users:',
      '  - { slack_id: U0CAROL, user: carol, uid: 1003 }',
      '  - { slack_id: U0DAVE, user: dave, uid: 1004, group: faculty }',
      '  - { slack_id: U0ERIN, user: erin, uid: 1005 }',
      '  - { slack_id: U0FRANK, user: frank, uid: 1006 }',
    ].join('\n'),
    dir,
  );
  const limits = loadResourceLimits(limitsFile);
  const members = readGroupMembers(limitsFile);
  const { config: withGroups, assigned } = withGroupsFromMembers(config, limits, members);
  const group = (u: string) => withGroups.users.find((x) => x.user === u)!.group;

  it('reads names, skipping comments, blank lines and archived.members; user@domain also matches its local part', () => {
    expect(parseMembers('# c\nalice\n  bob  # x\n\n')).toEqual(['alice', 'bob']);
    expect(members.byUser.get('204214')).toBe('researcher');
    expect(members.byUser.has('erin')).toBe(false);
  });
  it('a user without a group in the bot config gets the group from the files; the config wins when it names one', () => {
    expect(group('carol')).toBe('researcher');
    expect(group('dave')).toBe('faculty');
    expect(assigned).toBe(1);
    expect(effectiveLimits(limits, { user: 'carol', group: group('carol')! }).group).toBe('researcher');
  });
  it('archived users and groups resource-limits.yaml does not define fall back to the default group', () => {
    expect(group('erin')).toBeUndefined();
    expect(group('frank')).toBeUndefined();
    expect(effectiveLimits(limits, { user: 'erin' }).group).toBe(limits.defaultGroup);
  });
  it('a user in two files is reported, and the first file by name is used', () => {
    expect(members.conflicts).toEqual([{ user: 'carol', groups: ['researcher', 'student'] }]);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_CONFIG_CHARS, parseDs01Config, projectDir } from '../../src/config/ds01-config.js';
import { Ds01Error } from '../../src/shared/errors.js';
import { DS01_REFERENCE, REPO_ROOT } from '../support/paths.js';

const good = `
notify_channel: C0DS01NOTE
workspaces: /home/{user}/workspace
limits_file: ./resource-limits.yaml
users:
  - { slack_id: U0ALICE, user: alice, uid: 1001, group: student }
  - { slack_id: U0ADMIN, user: admin1, uid: 1000, group: admin }
`;

describe('the bot config file', () => {
  it('reads the documented format and resolves paths against its folder', () => {
    const cfg = parseDs01Config(good, '/etc/ds01-chatops');
    expect(cfg.limits_file).toBe('/etc/ds01-chatops/resource-limits.yaml');
    expect(cfg.users).toHaveLength(2);
    expect(projectDir(cfg, 'alice', 'demo')).toBe('/home/alice/workspace/demo');
  });

  it('names the bad key when the file is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      [good.replace('/home/{user}/workspace', '/home/workspace'), /"workspaces"/],
      [good.replace('uid: 1001', 'uid: alice'), /"users\.0\.uid"/],
      [good.replace('U0ALICE', 'alice'), /"users\.0\.slack_id"/],
      [good.replace('U0ADMIN', 'U0ALICE'), /"users\.1\.slack_id".*listed twice/],
      ['users: [', /not valid YAML/],
      [`${good}\nbroken: "'"'"'\n`, /not valid YAML \(line 9\)/],
      [`${good}#${' '.repeat(MAX_CONFIG_CHARS)}`, /larger than 1 MB/],
      [good.replace('limits_file: ./resource-limits.yaml\n', ''), /"limits_file"/],
    ];
    for (const [text, re] of cases) {
      let err: unknown;
      try {
        parseDs01Config(text, '/etc');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Ds01Error);
      expect((err as Ds01Error).userMessage).toMatch(re);
    }
  });
});

describe("the shipped copy of DS01's resource-limits.yaml", () => {
  it("is byte-identical to DS01's reference file, when the reference is present", () => {
    const reference = path.join(DS01_REFERENCE, 'config/resource-limits.yaml');
    const shipped = readFileSync(path.join(REPO_ROOT, 'config/resource-limits.yaml'));
    expect(shipped.toString('utf8')).toMatch(/^# DS01 GPU Server - Resource Limits Configuration/);
    if (existsSync(reference)) expect(shipped.equals(readFileSync(reference))).toBe(true);
  });
});

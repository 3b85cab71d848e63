import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectiveLimits, loadResourceLimits, loadUserOverrides, parseResourceLimits, parseSize, sanitizeUsername, type ResourceLimits } from '../../src/limits/resource-limits.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { LIMITS_FILE } from '../support/paths.js';

// DS01's real file, unchanged. CI checks the reference folder out beside the repo.
const DS01_LIMITS = LIMITS_FILE;
const GiB = 1024 ** 3;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ds01-limits-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeYaml(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function errorOf(fn: () => unknown): Ds01Error {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Ds01Error);
    return e as Ds01Error;
  }
  throw new Error('expected a Ds01Error');
}

describe("DS01's resource-limits.yaml", () => {
  let limits: ResourceLimits;
  beforeAll(() => {
    limits = loadResourceLimits(DS01_LIMITS);
  });

  it('reads the real file and knows its groups and default group', () => {
    expect(limits.defaultGroup).toBe('student');
    expect(Object.keys(limits.groups).sort()).toEqual(['admin', 'faculty', 'researcher', 'student']);
  });

  it('gives a student 2 GPU-equivalents, 2 GPUs per container, 3 containers, 32 CPUs and 32 GB', () => {
    expect(effectiveLimits(limits, { user: '228755@hertie-school.lan', group: 'student' })).toEqual({
      group: 'student',
      maxGpuEquivalents: 2,
      maxGpuSlotsPerContainer: 2,
      maxContainersPerUser: 3,
      maxCpus: 32,
      memoryBytes: 32 * GiB,
      memorySwapBytes: 32 * GiB,
      shmSizeBytes: 16 * GiB,
      pidsLimit: 4096,
      maxRuntimeH: 24,
      idleTimeoutH: 0.5,
      gpuHoldAfterStopH: 0.25,
      containerHoldAfterStopH: 0.5,
      policies: {
        gpuIdleThreshold: 5,
        cpuIdleThreshold: 2,
        idleDetectionWindow: 3,
        graceperiodM: 30,
        keepaliveMaxDurationH: 24,
        highDemandThreshold: 0.8,
        highDemandIdleReduction: 0.5,
        sigtermGraceS: 60,
      },
    });
  });

  it('gives a researcher the larger group limits and the more patient idle policy', () => {
    const r = effectiveLimits(limits, { user: 'h.baker@hertie-school.lan', group: 'researcher' });
    expect(r).toMatchObject({
      group: 'researcher',
      maxGpuEquivalents: 4,
      maxGpuSlotsPerContainer: 3,
      maxContainersPerUser: 5,
      maxCpus: 48,
      memoryBytes: 64 * GiB,
      memorySwapBytes: 64 * GiB,
      shmSizeBytes: 32 * GiB,
      pidsLimit: 4096,
      maxRuntimeH: 48,
      idleTimeoutH: 1,
      gpuHoldAfterStopH: 0.25,
      containerHoldAfterStopH: 0.5,
    });
    // Group policies override the top-level ones key by key; the rest come from the top level.
    expect(r.policies).toEqual({
      gpuIdleThreshold: 5,
      cpuIdleThreshold: 3,
      idleDetectionWindow: 4,
      graceperiodM: 30,
      keepaliveMaxDurationH: 24,
      highDemandThreshold: 0.8,
      highDemandIdleReduction: 0.5,
      sigtermGraceS: 60,
    });
  });

  it('gives an admin unlimited GPUs (null) but keeps the other admin limits', () => {
    const a = effectiveLimits(limits, { user: 'datasciencelab', group: 'admin' });
    expect(a).toMatchObject({
      group: 'admin',
      maxGpuEquivalents: null,
      maxGpuSlotsPerContainer: null,
      maxContainersPerUser: 10,
      maxCpus: 64,
      memoryBytes: 128 * GiB,
      shmSizeBytes: 64 * GiB,
      maxRuntimeH: 24,
      idleTimeoutH: 1,
      gpuHoldAfterStopH: 1,
    });
    // admin has no policies block: top-level policies apply.
    expect(a.policies.idleDetectionWindow).toBe(3);
  });

  it('falls back to default_group for a user with no group or an unknown group', () => {
    expect(effectiveLimits(limits, { user: 'localuser' }).group).toBe('student');
    expect(effectiveLimits(limits, { user: 'localuser', group: 'visitors' })).toEqual(effectiveLimits(limits, { user: 'localuser', group: 'student' }));
  });

  it("applies a user's overrides from user-overrides.yaml on top of their group, null meaning never", () => {
    const overrides = parseYaml(`
# Example from DS01's groups README
204214@hertie-school.lan:
  idle_timeout_h: null
  max_runtime_h: null
  memory: 96g
  policies:
    gpu_idle_threshold: 10
`) as Record<string, Record<string, unknown>>;
    const u = effectiveLimits(limits, { user: '204214@hertie-school.lan', group: 'researcher', overrides });
    expect(u).toMatchObject({
      group: 'researcher',
      idleTimeoutH: null,
      maxRuntimeH: null,
      memoryBytes: 96 * GiB,
      // the layer that raised memory didn't set swap, so swap follows memory
      memorySwapBytes: 96 * GiB,
      maxCpus: 48,
      maxGpuEquivalents: 4,
    });
    expect(u.policies.gpuIdleThreshold).toBe(10);
    expect(u.policies.cpuIdleThreshold).toBe(3);
    // Someone else in the same group is unaffected.
    expect(effectiveLimits(limits, { user: 'h.baker', group: 'researcher', overrides }).idleTimeoutH).toBe(1);
  });

  it('finds an override under the slice-safe username, as DS01 does', () => {
    expect(sanitizeUsername('h.baker@hertie-school.lan')).toBe('h_baker');
    const u = effectiveLimits(limits, { user: 'h.baker@hertie-school.lan', overrides: { h_baker: { max_cpus: 8 } } });
    expect(u.maxCpus).toBe(8);
  });

  it('loads user-overrides.yaml from disk, and treats a missing file as no overrides', () => {
    const path = writeYaml('user-overrides.yaml', 'alice:\n  max_containers_per_user: 6\n  max_gpu_slots: 4\n');
    const overrides = loadUserOverrides(path);
    const u = effectiveLimits(limits, { user: 'alice', overrides });
    expect(u.maxContainersPerUser).toBe(6);
    expect(u.maxGpuSlotsPerContainer).toBe(4);
    expect(loadUserOverrides(join(dir, 'does-not-exist.yaml'))).toEqual({});
    expect(loadUserOverrides(writeYaml('empty-overrides.yaml', '# nobody yet\n'))).toEqual({});
  });

  it('names the user and key when an override is broken', () => {
    const err = errorOf(() => effectiveLimits(limits, { user: 'alice', overrides: { alice: { memory: 'lots' } } }));
    expect(err.code).toBe(ErrorCode.Config);
    expect(err.userMessage).toContain('alice.memory');
    expect(errorOf(() => loadUserOverrides(writeYaml('bad-overrides.yaml', 'bob:\n  max_cpus: many\n'))).userMessage).toContain('bob.max_cpus');
  });
});

describe('old key names', () => {
  const doc = (group: string) =>
    parseResourceLimits(
      parseYaml(`
defaults:
  max_gpu_equivalents: 1.0
  max_gpu_slots_per_container: 1
default_group: student
groups:
  student:
${group}
`),
    );

  it('reads max_gpu_slots as max_gpu_slots_per_container', () => {
    expect(effectiveLimits(doc('    max_gpu_slots: 3'), { user: 'u' }).maxGpuSlotsPerContainer).toBe(3);
  });

  it('reads max_mig_per_container as max_gpu_slots_per_container', () => {
    expect(effectiveLimits(doc('    max_mig_per_container: 2'), { user: 'u' }).maxGpuSlotsPerContainer).toBe(2);
  });

  it('reads max_mig_instances as the per-user GPU-equivalent quota', () => {
    expect(effectiveLimits(doc('    max_mig_instances: 3'), { user: 'u' }).maxGpuEquivalents).toBe(3);
  });

  it('prefers the new name when a layer has both', () => {
    const l = effectiveLimits(doc('    max_gpu_slots: 5\n    max_gpu_slots_per_container: 2\n    max_mig_instances: 9\n    max_gpu_equivalents: 1.5'), {
      user: 'u',
    });
    expect(l.maxGpuSlotsPerContainer).toBe(2);
    expect(l.maxGpuEquivalents).toBe(1.5);
  });

  it('lets an alias null mean unlimited, like the new name', () => {
    expect(effectiveLimits(doc('    max_gpu_slots: null'), { user: 'u' }).maxGpuSlotsPerContainer).toBeNull();
    expect(effectiveLimits(doc('    max_mig_instances: unlimited'), { user: 'u' }).maxGpuEquivalents).toBeNull();
  });
});

describe('tolerance and defaults', () => {
  it('ignores keys and sections it does not know', () => {
    const l = parseResourceLimits(
      parseYaml(`
future_section: { anything: [1, 2] }
defaults:
  max_cpus: 8
  brand_new_limit: 7
groups:
  student:
    aggregate: { cpu_quota: "9600%" }
`),
    );
    expect(effectiveLimits(l, { user: 'u' }).maxCpus).toBe(8);
  });

  it("uses DS01's shipped defaults for keys a file leaves out, and empty sections are fine", () => {
    const l = parseResourceLimits(parseYaml('defaults:\ngroups:\npolicies:\n'));
    const u = effectiveLimits(l, { user: 'u' });
    expect(u).toMatchObject({ group: 'student', maxGpuEquivalents: 1, maxContainersPerUser: 3, memoryBytes: 32 * GiB, pidsLimit: 4096 });
    expect(u.policies.sigtermGraceS).toBe(60);
  });

  it('takes group members listed inline in the file', () => {
    const l = parseResourceLimits(parseYaml('groups:\n  researcher:\n    members: [h.baker]\n    max_cpus: 48\n'));
    expect(effectiveLimits(l, { user: 'h.baker' })).toMatchObject({ group: 'researcher', maxCpus: 48 });
  });

  it('parses sizes the way Docker does', () => {
    expect(parseSize('32g')).toBe(32 * GiB);
    expect(parseSize('16G')).toBe(16 * GiB);
    expect(parseSize('512m')).toBe(512 * 1024 ** 2);
    expect(parseSize('1.5g')).toBe(1.5 * GiB);
    expect(parseSize('64GiB')).toBe(64 * GiB);
    expect(parseSize('2T')).toBe(2 * 1024 ** 4);
    expect(parseSize('1024k')).toBe(1024 * 1024);
    expect(parseSize(1048576)).toBe(1048576);
    expect(parseSize('lots')).toBeNull();
    expect(parseSize('-1g')).toBeNull();
  });
});

describe('a broken limits file', () => {
  it('names the key path of a bad size', () => {
    const path = writeYaml('bad-size.yaml', 'defaults:\n  memory: 32g\ngroups:\n  student:\n    memory: thirty-two\n');
    const err = errorOf(() => loadResourceLimits(path));
    expect(err.code).toBe(ErrorCode.Config);
    expect(err.userMessage).toContain('`groups.student.memory`');
    expect(err.userMessage).toContain('32g');
    expect(err.userMessage).toContain('DS01 admins');
    expect(err.message).toContain('groups.student.memory');
  });

  it('names the key path of a bad number', () => {
    const err = errorOf(() => loadResourceLimits(writeYaml('bad-num.yaml', 'groups:\n  researcher:\n    max_gpu_equivalents: four\n')));
    expect(err.userMessage).toContain('`groups.researcher.max_gpu_equivalents`');
  });

  it('names the key path inside policies', () => {
    const err = errorOf(() => loadResourceLimits(writeYaml('bad-policy.yaml', 'policies:\n  high_demand_threshold: 80\n')));
    expect(err.userMessage).toContain('`policies.high_demand_threshold`');
  });

  it('rejects a fractional per-container GPU count', () => {
    const err = errorOf(() => loadResourceLimits(writeYaml('bad-int.yaml', 'defaults:\n  max_gpu_slots_per_container: 1.5\n')));
    expect(err.userMessage).toContain('`defaults.max_gpu_slots_per_container`');
  });

  it('points at the line when the YAML itself does not parse', () => {
    const err = errorOf(() => loadResourceLimits(writeYaml('bad-yaml.yaml', 'defaults:\n  memory: [32g\n')));
    expect(err.code).toBe(ErrorCode.Config);
    expect(err.userMessage).toMatch(/line \d+/);
  });

  it('says so when the file is missing or not a mapping', () => {
    expect(errorOf(() => loadResourceLimits(join(dir, 'nope.yaml'))).userMessage).toContain('does not exist');
    expect(errorOf(() => loadResourceLimits(writeYaml('list.yaml', '- a\n- b\n'))).code).toBe(ErrorCode.Config);
    expect(errorOf(() => loadResourceLimits(writeYaml('empty.yaml', ''))).code).toBe(ErrorCode.Config);
  });
});

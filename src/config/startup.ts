import { loadResourceLimits, loadUserOverrides, type ResourceLimits, type UserOverrides } from '../limits/resource-limits.js';
import { isDs01Error } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { loadDs01Config, type Ds01Config } from './ds01-config.js';
import { loadJobSecret } from '../contract/signing.js';
import { readGroupMembers, withGroupsFromMembers } from '../limits/group-members.js';
import { addLogSecret } from '../shared/logger.js';

/** Bot and worker say the same when the config file is not named. */
export const DS01_CONFIG_MISSING = 'DS01_CONFIG is not set: point it at the DS01 ChatOps config file (README "Configuration" shows one)';

export interface Startup<E> {
  env: E;
  /** The secret jobs and events are signed with (src/contract/signing.ts). */
  jobSecret: string;
  config: Ds01Config;
  limits: ResourceLimits;
  userOverrides?: UserOverrides;
}

/**
 * What bot and worker read before anything else: their environment, the config file and DS01's
 * limits. A mistake stops the process with one log line naming it (exit code 2), never a trace.
 */
export function loadStartup<E extends { DS01_CONFIG: string }>(log: Logger, loadEnv: () => E): Startup<E> {
  try {
    const env = loadEnv();
    const jobSecret = loadJobSecret();
    addLogSecret(jobSecret); // also when it came from a file
    const loaded = loadDs01Config(env.DS01_CONFIG);
    const limits = loadResourceLimits(loaded.limits_file);
    // Users the config gives no group get DS01's own: groups/<group>.members beside resource-limits.yaml.
    const members = readGroupMembers(loaded.limits_file);
    const { config, assigned } = withGroupsFromMembers(loaded, limits, members);
    if (assigned) log.info({ assigned }, "groups read from DS01's groups/*.members files");
    for (const c of members.conflicts.slice(0, 20)) log.warn({ user: c.user, groups: c.groups }, 'user listed in more than one DS01 group file; the first is used');
    const userOverrides = config.user_overrides_file ? loadUserOverrides(config.user_overrides_file) : undefined;
    return { env, jobSecret, config, limits, ...(userOverrides ? { userOverrides } : {}) };
  } catch (err) {
    log.fatal({ err: isDs01Error(err) ? err.userMessage : (err as Error).message }, 'cannot start: fix the configuration');
    process.exit(2);
  }
}

/**
 * DS01's resource-limits.yaml, read unchanged, and the limits that apply to one user.
 *
 * The file format is DS01's own (`defaults`, `default_group`, `groups.<name>`, `policies`, plus many sections
 * this project does not use — those are ignored, never rejected). `null` means unlimited / never, as in DS01.
 * Resolution order, later wins: DS01's shipped defaults ← `defaults` ← the user's group ← the user's entry in
 * user-overrides.yaml. Per-group `policies` override the top-level `policies` key by key.
 *
 * Old key names are read as aliases (the file's own comments promise this for one release):
 *   max_gpu_slots, max_mig_per_container → max_gpu_slots_per_container
 *   max_mig_instances                    → max_gpu_equivalents (it was the per-user total)
 * When a layer has both the new and an old name, the new name wins.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { Ds01Error, ErrorCode } from '../shared/errors.js';

// ---------------------------------------------------------------------------------------------------------
// Public types

export interface Policies {
  /** GPU utilisation % below which a GPU counts as idle. */
  gpuIdleThreshold: number;
  /** CPU utilisation % below which a container counts as idle. */
  cpuIdleThreshold: number;
  /** Consecutive idle checks before action. */
  idleDetectionWindow: number;
  /** Startup grace period in minutes before idle detection begins. */
  graceperiodM: number;
  /** How long `/workspace/.keep-alive` is honoured, in hours (null = no cap). */
  keepaliveMaxDurationH: number | null;
  /** Fraction (0..1) of GPU allocation at which the host is in "high demand". */
  highDemandThreshold: number;
  /** Fraction by which idle timeouts shrink during high demand (0.5 = halved). */
  highDemandIdleReduction: number;
  /** Seconds between SIGTERM and SIGKILL when stopping a GPU container. */
  sigtermGraceS: number;
}

export interface UserLimits {
  /** The group whose limits applied (after falling back to `default_group`). */
  group: string;
  maxGpuEquivalents: number | null;
  maxGpuSlotsPerContainer: number | null;
  maxContainersPerUser: number | null;
  maxCpus: number;
  memoryBytes: number;
  memorySwapBytes: number;
  shmSizeBytes: number;
  pidsLimit: number | null;
  maxRuntimeH: number | null;
  idleTimeoutH: number | null;
  gpuHoldAfterStopH: number | null;
  containerHoldAfterStopH: number | null;
  policies: Policies;
}

/** One layer of settings (defaults, a group, or a user override). `undefined` = not set here; `null` = unlimited. */
export interface LimitLayer {
  maxGpuEquivalents?: number | null;
  maxGpuSlotsPerContainer?: number | null;
  maxContainersPerUser?: number | null;
  maxCpus?: number;
  memoryBytes?: number;
  memorySwapBytes?: number;
  shmSizeBytes?: number;
  pidsLimit?: number | null;
  maxRuntimeH?: number | null;
  idleTimeoutH?: number | null;
  gpuHoldAfterStopH?: number | null;
  containerHoldAfterStopH?: number | null;
  policies?: Partial<Policies>;
  /** Inline member list, if the file has one (DS01 normally keeps members in groups/<group>.members). */
  members?: string[];
}

export interface ResourceLimits {
  /** Where the file was read from (for messages). */
  source: string;
  defaultGroup: string;
  defaults: LimitLayer;
  groups: Record<string, LimitLayer>;
  policies: Partial<Policies>;
  /** Inline `user_overrides` from the main file (old DS01 layout); user-overrides.yaml entries win over these. */
  userOverrides: Record<string, LimitLayer>;
}

/**
 * DS01's user-overrides.yaml as parsed YAML: `{ <username>: { <same keys as a group> } }`.
 * Values stay in the file's own snake_case form; `effectiveLimits` validates the entry it uses.
 */
export type UserOverrides = Record<string, Record<string, unknown> | null | undefined>;

export interface EffectiveLimitsOptions {
  user: string;
  /** The user's group from the .members files; unknown or absent → `default_group`. */
  group?: string;
  /** Parsed user-overrides.yaml (see `loadUserOverrides`). */
  overrides?: UserOverrides;
}

// ---------------------------------------------------------------------------------------------------------
// Sizes

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * Parses a Docker-style size (`32g`, `512m`, `16G`, `1.5g`, `64GiB`, `1024k`, or a plain number of bytes)
 * into bytes, with binary units as Docker uses them. Returns null when the value is not a size.
 */
export function parseSize(value: unknown): number | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
  }
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmgtp]?)(?:i?b)?\s*$/i.exec(value);
  if (!m) return null;
  const amount = Number(m[1]);
  const unit = SIZE_UNITS[(m[2] ?? '').toLowerCase()];
  if (unit === undefined || !Number.isFinite(amount)) return null;
  return Math.round(amount * unit);
}

// ---------------------------------------------------------------------------------------------------------
// Schemas (snake_case, as in the file)

const UNLIMITED_WORDS = new Set(['unlimited', 'none', 'never', 'null', '~']);
/** DS01's scripts also accept the string "unlimited" where null is meant. */
const unlimitedToNull = (v: unknown): unknown => (typeof v === 'string' && UNLIMITED_WORDS.has(v.trim().toLowerCase()) ? null : v);
/** An empty YAML mapping (`groups:` with nothing under it) parses as null. */
const emptyToObject = (v: unknown): unknown => (v === null ? {} : v);

const limitNumber = z.preprocess(unlimitedToNull, z.number({ error: 'expected a number, or null for unlimited' }).nonnegative().nullable()).optional();
const limitInt = z
  .preprocess(unlimitedToNull, z.number({ error: 'expected a whole number, or null for unlimited' }).int('expected a whole number').nonnegative().nullable())
  .optional();
const positiveNumber = z.number({ error: 'expected a number' }).positive().optional();
const size = z
  .unknown()
  .transform((v, ctx) => {
    const bytes = parseSize(v);
    if (bytes === null) {
      ctx.addIssue({ code: 'custom', message: `expected a size like 32g or 512m, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return bytes;
  })
  .optional();

const policySchema = z.object({
  gpu_idle_threshold: z.number({ error: 'expected a percentage' }).min(0).max(100).optional(),
  cpu_idle_threshold: z.number({ error: 'expected a percentage' }).min(0).max(100).optional(),
  idle_detection_window: z.number({ error: 'expected a whole number' }).int('expected a whole number').positive().optional(),
  grace_period_m: z.number({ error: 'expected a number of minutes' }).nonnegative().optional(),
  keepalive_max_duration_h: limitNumber,
  high_demand_threshold: z.number({ error: 'expected a fraction between 0 and 1' }).min(0).max(1).optional(),
  high_demand_idle_reduction: z.number({ error: 'expected a fraction between 0 and 1' }).min(0).max(1).optional(),
  sigterm_grace_s: z.number({ error: 'expected a number of seconds' }).nonnegative().optional(),
});
type RawPolicies = z.infer<typeof policySchema>;

const layerSchema = z.object({
  max_gpu_equivalents: limitNumber,
  max_gpu_slots_per_container: limitInt,
  // Aliases, one release:
  max_gpu_slots: limitInt,
  max_mig_per_container: limitInt,
  max_mig_instances: limitNumber,

  max_containers_per_user: limitInt,
  max_cpus: positiveNumber,
  memory: size,
  memory_swap: size,
  shm_size: size,
  pids_limit: limitInt,
  max_runtime_h: limitNumber,
  idle_timeout_h: limitNumber,
  gpu_hold_after_stop_h: limitNumber,
  container_hold_after_stop_h: limitNumber,
  policies: z.preprocess(emptyToObject, policySchema).optional(),
  members: z.preprocess(emptyToObject, z.array(z.string())).optional(),
});
type RawLayer = z.infer<typeof layerSchema>;

const layerMapSchema = z.preprocess(emptyToObject, z.record(z.string(), z.preprocess(emptyToObject, layerSchema)));

const fileSchema = z.object({
  defaults: z.preprocess(emptyToObject, layerSchema).optional(),
  default_group: z.string({ error: 'expected a group name' }).min(1).optional(),
  groups: layerMapSchema.optional(),
  policies: z.preprocess(emptyToObject, policySchema).optional(),
  user_overrides: layerMapSchema.optional(),
});

// ---------------------------------------------------------------------------------------------------------
// Normalising

function normalisePolicies(raw: RawPolicies | undefined): Partial<Policies> {
  const out: Partial<Policies> = {};
  if (!raw) return out;
  if (raw.gpu_idle_threshold !== undefined) out.gpuIdleThreshold = raw.gpu_idle_threshold;
  if (raw.cpu_idle_threshold !== undefined) out.cpuIdleThreshold = raw.cpu_idle_threshold;
  if (raw.idle_detection_window !== undefined) out.idleDetectionWindow = raw.idle_detection_window;
  if (raw.grace_period_m !== undefined) out.graceperiodM = raw.grace_period_m;
  if (raw.keepalive_max_duration_h !== undefined) out.keepaliveMaxDurationH = raw.keepalive_max_duration_h;
  if (raw.high_demand_threshold !== undefined) out.highDemandThreshold = raw.high_demand_threshold;
  if (raw.high_demand_idle_reduction !== undefined) out.highDemandIdleReduction = raw.high_demand_idle_reduction;
  if (raw.sigterm_grace_s !== undefined) out.sigtermGraceS = raw.sigterm_grace_s;
  return out;
}

function firstDefined<T>(...values: Array<T | undefined>): T | undefined {
  return values.find((v) => v !== undefined);
}

function normaliseLayer(raw: RawLayer): LimitLayer {
  const layer: LimitLayer = {};
  const set = <K extends keyof LimitLayer>(key: K, value: LimitLayer[K] | undefined): void => {
    if (value !== undefined) layer[key] = value;
  };
  set('maxGpuEquivalents', firstDefined(raw.max_gpu_equivalents, raw.max_mig_instances));
  set('maxGpuSlotsPerContainer', firstDefined(raw.max_gpu_slots_per_container, raw.max_gpu_slots, raw.max_mig_per_container));
  set('maxContainersPerUser', raw.max_containers_per_user);
  set('maxCpus', raw.max_cpus);
  set('memoryBytes', raw.memory);
  set('memorySwapBytes', raw.memory_swap);
  set('shmSizeBytes', raw.shm_size);
  set('pidsLimit', raw.pids_limit);
  set('maxRuntimeH', raw.max_runtime_h);
  set('idleTimeoutH', raw.idle_timeout_h);
  set('gpuHoldAfterStopH', raw.gpu_hold_after_stop_h);
  set('containerHoldAfterStopH', raw.container_hold_after_stop_h);
  if (raw.policies !== undefined) layer.policies = normalisePolicies(raw.policies);
  set('members', raw.members);
  return layer;
}

function normaliseLayerMap(raw: Record<string, RawLayer> | undefined): Record<string, LimitLayer> {
  const out: Record<string, LimitLayer> = Object.create(null) as Record<string, LimitLayer>;
  for (const [name, layer] of Object.entries(raw ?? {})) out[name] = normaliseLayer(layer);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Errors

function keyPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => String(p)).join('.') || '(top level)';
}

function configError(file: string, path: string, problem: string, cause?: unknown): Ds01Error {
  return new Ds01Error(
    ErrorCode.Config,
    `DS01's limits configuration has a problem at \`${path}\`: ${problem}. ` + `Nothing was changed. Please ask the DS01 admins to fix \`${file}\`, then try again.`,
    { cause, detail: `${file}: invalid value at ${path}: ${problem}` },
  );
}

function fromZodError(file: string, error: z.ZodError, prefix: string[] = []): Ds01Error {
  const issue = error.issues[0];
  const path = keyPath([...prefix, ...(issue?.path ?? [])]);
  return configError(file, path, issue?.message ?? 'invalid value', error);
}

function displayPath(path: string | URL): string {
  return path instanceof URL ? fileURLToPath(path) : path;
}

function readYaml(path: string | URL): unknown {
  const file = displayPath(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Ds01Error(
      ErrorCode.Config,
      `I couldn't read DS01's limits configuration (\`${file}\`${code === 'ENOENT' ? ' does not exist' : ''}). ` +
        'Nothing was changed. Please ask the DS01 admins to check that the file is in place and readable.',
      { cause: err, detail: `cannot read ${file}: ${code ?? String(err)}` },
    );
  }
  try {
    return parseYaml(text);
  } catch (err) {
    const where = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    throw configError(file, where ? `line ${where.line}, column ${where.col}` : '(file)', 'the YAML does not parse', err);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Loading

/** Parses the content of a resource-limits.yaml already read into a JS value (`yaml.parse` output). */
export function parseResourceLimits(doc: unknown, source = 'resource-limits.yaml'): ResourceLimits {
  if (doc === null || doc === undefined || typeof doc !== 'object' || Array.isArray(doc)) {
    throw configError(source, '(top level)', 'expected a mapping with `defaults`, `groups` and `policies`');
  }
  const parsed = fileSchema.safeParse(doc);
  if (!parsed.success) throw fromZodError(source, parsed.error);
  const data = parsed.data;
  return {
    source,
    defaultGroup: data.default_group ?? 'student',
    defaults: normaliseLayer(data.defaults ?? {}),
    groups: normaliseLayerMap(data.groups),
    policies: normalisePolicies(data.policies),
    userOverrides: normaliseLayerMap(data.user_overrides),
  };
}

/** Reads DS01's resource-limits.yaml. Throws a Ds01Error (`config_invalid`) naming the bad key path. */
export function loadResourceLimits(path: string | URL): ResourceLimits {
  return parseResourceLimits(readYaml(path), displayPath(path));
}

/**
 * Reads DS01's user-overrides.yaml (`{ <username>: { ...limit keys } }`). A missing file means no overrides,
 * as in DS01; a broken one throws a Ds01Error (`config_invalid`) naming the bad key path.
 */
export function loadUserOverrides(path: string | URL): UserOverrides {
  const file = displayPath(path);
  let doc: unknown;
  try {
    doc = readYaml(path);
  } catch (err) {
    const cause = err instanceof Ds01Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
    if (cause?.code === 'ENOENT') return {};
    throw err;
  }
  if (doc === null || doc === undefined) return {};
  const parsed = layerMapSchema.safeParse(doc);
  if (!parsed.success) throw fromZodError(file, parsed.error);
  return doc as UserOverrides;
}

// ---------------------------------------------------------------------------------------------------------
// Resolving one user's limits

/** What DS01 ships in `defaults`; used only for keys a file leaves out entirely. */
const BUILTIN: Required<Omit<LimitLayer, 'policies' | 'members'>> = {
  maxGpuEquivalents: 1,
  maxGpuSlotsPerContainer: 1,
  maxContainersPerUser: 3,
  maxCpus: 32,
  memoryBytes: 32 * 1024 ** 3,
  memorySwapBytes: 32 * 1024 ** 3,
  shmSizeBytes: 16 * 1024 ** 3,
  pidsLimit: 4096,
  maxRuntimeH: 24,
  idleTimeoutH: 0.5,
  gpuHoldAfterStopH: 0.25,
  containerHoldAfterStopH: 0.5,
};

const BUILTIN_POLICIES: Policies = {
  gpuIdleThreshold: 5,
  cpuIdleThreshold: 2,
  idleDetectionWindow: 3,
  graceperiodM: 30,
  keepaliveMaxDurationH: 24,
  highDemandThreshold: 0.8,
  highDemandIdleReduction: 0.5,
  sigtermGraceS: 60,
};

/** DS01 also looks users up by their slice-safe name (`h.baker@hertie-school.lan` → `h_baker`). */
export function sanitizeUsername(username: string): string {
  let name = username.includes('@') ? (username.split('@')[0] ?? username) : username;
  name = name.replace(/\./g, '_').replace(/[^a-zA-Z0-9_:]/g, '_');
  return name.replace(/_+/g, '_').replace(/^_+|_+$/g, '');
}

function lookupUser<T>(map: Record<string, T> | undefined, user: string): [string, T] | undefined {
  if (!map) return undefined;
  if (Object.hasOwn(map, user)) return [user, map[user] as T];
  const sanitized = sanitizeUsername(user);
  if (sanitized !== user && Object.hasOwn(map, sanitized)) return [sanitized, map[sanitized] as T];
  return undefined;
}

function resolveGroup(limits: ResourceLimits, user: string, requested: string | undefined): string {
  if (requested !== undefined && Object.hasOwn(limits.groups, requested)) return requested;
  if (requested === undefined) {
    const sanitized = sanitizeUsername(user);
    for (const [name, layer] of Object.entries(limits.groups)) {
      if (layer.members?.includes(user) || layer.members?.includes(sanitized)) return name;
    }
  }
  return limits.defaultGroup;
}

/** The limits that apply to `user`: defaults ← group (or `default_group`) ← the user's overrides. */
export function effectiveLimits(limits: ResourceLimits, opts: EffectiveLimitsOptions): UserLimits {
  const group = resolveGroup(limits, opts.user, opts.group);
  const layers: LimitLayer[] = [limits.defaults];
  const groupLayer = Object.hasOwn(limits.groups, group) ? limits.groups[group] : undefined;
  if (groupLayer) layers.push(groupLayer);

  const inline = lookupUser(limits.userOverrides, opts.user);
  if (inline) layers.push(inline[1]);
  const fromFile = lookupUser(opts.overrides, opts.user);
  if (fromFile && fromFile[1] != null) {
    const parsed = layerSchema.safeParse(fromFile[1]);
    if (!parsed.success) throw fromZodError('user-overrides.yaml', parsed.error, [fromFile[0]]);
    layers.push(normaliseLayer(parsed.data));
  }

  const merged: Required<Omit<LimitLayer, 'policies' | 'members'>> = { ...BUILTIN };
  const policies: Policies = { ...BUILTIN_POLICIES, ...definedOnly(limits.policies) };
  let swapSet = false;
  for (const layer of layers) {
    for (const key of Object.keys(BUILTIN) as Array<keyof typeof BUILTIN>) {
      const value = layer[key];
      if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
    }
    if (layer.memorySwapBytes !== undefined) swapSet = true;
    else if (layer.memoryBytes !== undefined) swapSet = false;
    if (layer.policies) Object.assign(policies, definedOnly(layer.policies));
  }
  // Docker semantics, as DS01 applies them: swap defaults to the memory limit (no swap beyond RAM)
  // when the layer that set memory did not also set swap.
  // Docker refuses a swap limit below the memory limit, so never hand it one.
  if (!swapSet || merged.memorySwapBytes < merged.memoryBytes) merged.memorySwapBytes = merged.memoryBytes;

  return { group, ...merged, policies };
}

function definedOnly<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

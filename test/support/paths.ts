import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** DS01's reference material, beside the checkout (as CI lays it out), when present. */
export const DS01_REFERENCE = path.resolve(REPO_ROOT, '../shared/ds01-reference');

/**
 * DS01's resource-limits.yaml: the reference copy beside the checkout when there is one, else the
 * unchanged copy this repo ships in config/ (a test checks the two are identical).
 */
export const LIMITS_FILE = existsSync(path.join(DS01_REFERENCE, 'config/resource-limits.yaml'))
  ? path.join(DS01_REFERENCE, 'config/resource-limits.yaml')
  : path.join(REPO_ROOT, 'config/resource-limits.yaml');

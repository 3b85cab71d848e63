/**
 * The first layer of "Ask DS01": exact error signatures. A pasted error line or one of DS01's own
 * notices ("IDLE CONTAINER WARNING", "GPU Limit Reached") says precisely what happened, so it is
 * answered by the topic for that error before any ranking, whatever generic words surround it.
 *
 * Matching is plain substring search (`includes`) on the capped, lowercased, whitespace-collapsed
 * question: no regex, so it is linear by construction. Order matters: the first signature that
 * matches wins, so the more specific ones come first.
 */

export interface ErrorSignature {
  /** What the user pasted, in words (for logs and tests). */
  name: string;
  topic: string;
  /** Any one of these substrings (lowercase, single spaces) identifies the error. */
  any: string[];
  /** When present, one of these must also occur (to tell apart errors sharing a phrase). */
  with?: string[];
}

export const ERROR_SIGNATURES: ErrorSignature[] = [
  // DS01's own notices (check-idle-containers, enforce-max-runtime, the allocation errors).
  {
    name: 'DS01 idle notice for an exempt user',
    topic: 'exempt-idle-notice',
    any: ['fyi only — you are exempt', 'fyi only - you are exempt', 'you are exempt', 'your exemption is active'],
  },
  { name: 'DS01 idle warning', topic: 'idle-warning', any: ['idle container warning', 'final idle warning', 'idle container notice', 'status: idle', 'high demand mode active'] },
  { name: 'DS01 idle auto-stop', topic: 'auto-stopped-container', any: ['container auto-stopped', 'reason: idle timeout reached'] },
  {
    name: 'DS01 runtime stop',
    topic: 'runtime-limit-stop',
    any: [
      'container stopped — runtime limit',
      'container stopped - runtime limit',
      'stopped — runtime limit',
      'max runtime warning',
      'final runtime warning',
      'maximum runtime limit approaching',
    ],
  },
  {
    name: 'DS01 container limit',
    topic: 'container-limit-reached',
    any: ['container limit reached', 'maximum containers reached', 'at maximum container limit', 'containers, which is your maximum'],
  },
  {
    name: 'DS01 GPU limit',
    topic: 'quotas-and-queue',
    any: [
      'gpu limit reached',
      'gpu(s) allocated, which is your maximum',
      'no gpus currently available',
      'no gpus available',
      'resource allocation failed',
      'all gpus are currently in use',
    ],
  },
  {
    name: 'DS01 GPU queue',
    topic: 'quotas-and-queue',
    any: [
      'added to gpu queue at position',
      'already in queue for container',
      'you are not in the gpu queue',
      'gpu now available!',
      'gpu request queue',
      'join notification queue',
      'gpu allocation failed after 3 minutes',
    ],
  },
  { name: 'DS01 more resources', topic: 'groups-and-more-resources', any: ['need more resources?', 'arranging larger quotas', 'request researcher access'] },
  { name: 'DS01 MIG notices', topic: 'mig', any: ['no mig instances available', 'full gpu access restricted', 'your account uses mig only', 'can only use mig'] },
  { name: 'DS01 storage notice', topic: 'disk-space', any: ['storage almost full', 'storage notice', 'no space left on device', 'disk quota exceeded', 'errno 28'] },
  {
    name: 'DS01 bare-metal notices',
    topic: 'bare-metal-gpu',
    any: ['bare metal gpu access restricted', 'running processes outside containers', 'running on bare metal', 'bare-metal-access'],
  },
  // Errors pasted from Python, Docker, SSH and Jupyter.
  {
    name: 'CUDA out of memory',
    topic: 'cuda-errors',
    any: [
      'nvidia-smi: command not found',
      'cuda out of memory',
      'cuda error: out of memory',
      'outofmemoryerror',
      'cublas_status_alloc_failed',
      'no cuda gpus are available',
      'no devices were found',
      'nvidia-smi has failed',
      'found no nvidia driver',
    ],
  },
  {
    name: 'PyTorch sees no GPU',
    topic: 'torch-cannot-see-gpu',
    any: ['is_available() returns false', 'is_available() is false', 'is_available() false', 'is_available() gives false', 'is_available() = false'],
  },
  { name: 'Module not found', topic: 'packages-and-the-image', any: ['modulenotfounderror', 'no module named', 'importerror: cannot import name'] },
  {
    name: 'Docker daemon from a VS Code dev container',
    topic: 'devcontainer-setup',
    any: ['cannot connect to the docker daemon'],
    with: ['vscode', 'vs code', 'devcontainer', 'dev container', 'reopen in container', 'folder in container'],
  },
  { name: 'Docker socket', topic: 'docker-access', any: ['docker daemon socket', 'docker.sock', 'cannot connect to the docker daemon', 'is the docker daemon running'] },
  {
    name: 'Port in use',
    topic: 'ports-and-tunnels',
    any: ['port is already allocated', 'address already in use', 'errno 98', 'port 8888 is already in use', 'is already in use, trying another port'],
  },
  { name: 'Container name in use', topic: 'docker-access', any: ['is already in use by container', 'the container name'], with: ['already in use'] },
  { name: 'Container already exists', topic: 'launching', any: ['container already exists'] },
  { name: 'Container gone', topic: 'retirement', any: ['error: container not found', 'no such container'] },
  {
    name: 'Container will not stop',
    topic: 'container-wont-stop',
    any: ["container won't stop", 'container wont stop', 'container will not stop', 'container-stop hangs', 'container stop hangs', 'stuck in stopping'],
  },
  {
    name: 'Only one GPU visible',
    topic: 'multi-gpu-training',
    any: ['device_count() returns 1', 'device_count() is 1', 'only one gpu visible', 'only one gpu is visible', 'only 1 gpu visible'],
  },
  {
    name: 'Jupyter kernel died',
    topic: 'jupyter-kernel-dies',
    any: ['kernel appears to have died', 'kernel restarting', 'kernel died', 'dead kernel', 'kernel keeps dying', 'kernel dies', 'kernel keeps crashing'],
  },
  { name: 'Jupyter token', topic: 'jupyter-token', any: ['invalid credentials', 'token invalid', 'invalid token', 'password or token', 'jupyter token'] },
  {
    name: 'Killed by the OOM killer',
    topic: 'memory-limits',
    any: ['oomkilled', 'exit code 137', 'exited (137)', 'out of memory: killed process', 'memoryerror', 'unable to allocate'],
  },
  { name: 'apt: unknown package', topic: 'system-packages', any: ['unable to locate package'] },
  {
    name: 'Build: no matching version',
    topic: 'image-build-failures',
    any: [
      'could not find a version that satisfies',
      'no matching distribution found',
      'resolutionimpossible',
      'conflicting dependencies',
      'failed to solve',
      'returned a non-zero code',
      'image build failed',
      'failed to build image',
    ],
  },
  { name: 'Base image missing', topic: 'image-build-failures', any: ['error: manifest for'], with: ['not found', 'unknown'] },
  {
    name: 'Download refused',
    topic: 'datasets-and-downloads',
    any: ['connection refused', 'name or service not known', 'temporary failure in name resolution'],
    with: ['wget', 'curl', 'download', 'huggingface', 'urlopen', 'urlretrieve'],
  },
  {
    name: 'Git push over SSH',
    topic: 'git-and-github',
    any: ['git@github.com: permission denied', 'permission denied (publickey)'],
    with: ['git', 'github', 'gitlab', 'push', 'pull', 'clone'],
  },
  {
    name: 'SSH key permissions and host key',
    topic: 'ssh-key-problems',
    any: ['unprotected private key file', 'are too open', 'remote host identification has changed', 'host key verification failed'],
  },
  {
    name: 'SSH session dropped',
    topic: 'ssh-connection-drops',
    any: ['client_loop: send disconnect', 'packet_write_wait', 'broken pipe', 'connection reset by peer'],
    with: ['ssh', 'client_loop', 'packet_write_wait', 'session', 'connection', 'disconnect', 'ds01'],
  },
  {
    name: 'SSH public key',
    topic: 'ssh-access',
    any: ['permission denied (publickey', 'connection refused'],
  },
  { name: 'SSH timed out', topic: 'off-campus-access', any: ['connection timed out', 'operation timed out', 'no route to host', 'could not resolve hostname'] },
  { name: 'File permission', topic: 'file-permissions', any: ['permissionerror', 'errno 13', 'read-only file system'] },
  { name: 'Image not found', topic: 'launching', any: ['image not found', 'unable to find image', 'pull access denied', 'no such image'] },
  { name: 'Container exited', topic: 'container-wont-start', any: ['container failed to start', 'exited (1)', 'exits immediately', 'exited immediately', 'restarting (1)'] },
  { name: 'Command not found', topic: 'command-not-found', any: ['command not found', 'is not recognized as', 'no such file or directory: container', 'not found: container'] },
];

/** The Linux OOM killer's only words: a line that reads just "Killed". */
const OOM_KILLED: ErrorSignature = { name: 'Killed by the kernel', topic: 'memory-limits', any: ['killed'] };

/** `text` must already be capped (see question.ts); lowercases and collapses whitespace without a regex. */
export function matchSignature(text: string): ErrorSignature | undefined {
  if (text.split('\n').some((line) => line.trim().toLowerCase() === 'killed')) return OOM_KILLED;
  const flat = collapse(text.toLowerCase());
  for (const sig of ERROR_SIGNATURES) {
    if (!sig.any.some((s) => flat.includes(s))) continue;
    if (sig.with && !sig.with.some((s) => flat.includes(s))) continue;
    return sig;
  }
  return undefined;
}

/** Runs of whitespace become one space; quotes and backticks are dropped ("No module named 'x'"). */
function collapse(text: string): string {
  let out = '';
  let space = false;
  for (const ch of text) {
    if (ch === ' ' || ch === '\n' || ch === '\t' || ch === '\r' || ch === '\u00a0') {
      space = true;
      continue;
    }
    if (ch === '`' || ch === '"' || ch === '“' || ch === '”') continue;
    if (space && out.length > 0) out += ' ';
    space = false;
    out += ch;
  }
  return out;
}

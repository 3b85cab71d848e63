/**
 * Finds the `pip install` and `apt-get install` commands in a parsed Dockerfile, and says which of
 * their words are packages. Only the final build stage counts: packages installed in an earlier
 * (builder) stage never reach the image the user runs.
 */
import { finalStageStart, simpleCommands, type Instruction, type ParsedDockerfile, type ShellWord } from './dockerfile-parse.js';

export interface InstallCommand {
  instruction: Instruction;
  instructionIndex: number;
  /** Every word of the command, program name included. */
  words: ShellWord[];
  /** Index in `words` of the first word after `install`. */
  argsFrom: number;
  /** Positional arguments: the packages. */
  packages: ShellWord[];
}

export interface PipInstall extends InstallCommand {
  /** Values of `-r` / `--requirement` options. */
  requirementFiles: string[];
}

// pip options that consume the next word (when not written as `--opt=value`).
const PIP_VALUE_OPTIONS = new Set([
  '-r',
  '--requirement',
  '-c',
  '--constraint',
  '-e',
  '--editable',
  '-i',
  '--index-url',
  '--extra-index-url',
  '-f',
  '--find-links',
  '-t',
  '--target',
  '--prefix',
  '--root',
  '--src',
  '--cache-dir',
  '--trusted-host',
  '--platform',
  '--python-version',
  '--implementation',
  '--abi',
  '--upgrade-strategy',
  '--progress-bar',
  '--global-option',
  '--install-option',
  '-C',
  '--config-settings',
  '--timeout',
  '--retries',
  '--log',
  '--proxy',
  '--cert',
  '--client-cert',
  '--exists-action',
  '--root-user-action',
  '--report',
  '--only-binary',
  '--no-binary',
  '--python',
  '--keyring-provider',
  '--use-feature',
  '--use-deprecated',
  '--group',
]);
// Short pip options that may carry their value glued on (`-rrequirements.txt`).
const PIP_SHORT_WITH_VALUE = new Set(['r', 'c', 'e', 'i', 'f', 't', 'C']);

const APT_VALUE_OPTIONS = new Set(['-o', '--option', '-t', '--target-release', '--default-release', '-c', '--config-file']);

const ASSIGNMENT_RE = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** Drops `VAR=x`, `sudo`, `env` and friends in front of the real program. */
function stripPrefixes(words: ShellWord[]): ShellWord[] {
  let k = 0;
  while (k < words.length) {
    const v = words[k]!.value;
    if (ASSIGNMENT_RE.test(v) || v === 'sudo' || v === 'env' || v === 'command' || v === 'exec') k += 1;
    else break;
  }
  return words.slice(k);
}

function basename(v: string): string {
  return v.slice(v.lastIndexOf('/') + 1);
}

/** Index of the `install` word when `words` is a pip install command, else -1. */
function pipInstallIndex(words: ShellWord[]): number {
  const v = words.map((w) => w.value);
  const prog = basename(v[0] ?? '');
  if (/^pip(\d+(\.\d+)?)?$/.test(prog) && v[1] === 'install') return 1;
  if (/^python(\d+(\.\d+)?)?$/.test(prog) && v[1] === '-m' && v[2] === 'pip' && v[3] === 'install') return 3;
  if (prog === 'uv' && v[1] === 'pip' && v[2] === 'install') return 2;
  return -1;
}

/** Index of the `install` word when `words` is an apt-get/apt install command, else -1. */
function aptInstallIndex(words: ShellWord[]): number {
  const prog = basename(words[0]?.value ?? '');
  if (prog !== 'apt-get' && prog !== 'apt') return -1;
  for (let k = 1; k < words.length; k += 1) {
    const v = words[k]!.value;
    if (v === 'install') return k;
    if (!v.startsWith('-')) return -1;
    if (APT_VALUE_OPTIONS.has(v)) k += 1;
  }
  return -1;
}

function commandsOf(ins: Instruction): ShellWord[][] {
  const commands = simpleCommands(ins.tokens);
  // RUN flags (`--mount=...`, `--network=...`) come before the shell command itself.
  const first = commands[0];
  if (first) {
    let k = 0;
    while (k < first.length && first[k]!.value.startsWith('--')) k += 1;
    commands[0] = first.slice(k);
  }
  return commands.map(stripPrefixes).filter((c) => c.length > 0);
}

export function findPipInstalls(df: ParsedDockerfile): PipInstall[] {
  const found: PipInstall[] = [];
  const from = finalStageStart(df);
  df.instructions.forEach((ins, index) => {
    if (index < from || ins.keyword !== 'RUN' || ins.opaque) return;
    for (const words of commandsOf(ins)) {
      const at = pipInstallIndex(words);
      if (at < 0) continue;
      const packages: ShellWord[] = [];
      const requirementFiles: string[] = [];
      for (let k = at + 1; k < words.length; k += 1) {
        const v = words[k]!.value;
        if (!v.startsWith('-') || v === '-') {
          packages.push(words[k]!);
          continue;
        }
        const eq = v.indexOf('=');
        const opt = eq === -1 ? v : v.slice(0, eq);
        let value: string | undefined;
        if (eq !== -1 && opt.startsWith('--')) value = v.slice(eq + 1);
        else if (PIP_VALUE_OPTIONS.has(v)) {
          value = words[k + 1]?.value;
          k += 1;
        } else if (!v.startsWith('--') && v.length > 2 && PIP_SHORT_WITH_VALUE.has(v[1]!)) value = v.slice(2);
        if ((opt === '-r' || opt === '--requirement' || (v.startsWith('-r') && !v.startsWith('--'))) && value !== undefined) {
          requirementFiles.push(value);
        }
      }
      found.push({ instruction: ins, instructionIndex: index, words, argsFrom: at + 1, packages, requirementFiles });
    }
  });
  return found;
}

export function findAptInstalls(df: ParsedDockerfile): InstallCommand[] {
  const found: InstallCommand[] = [];
  const from = finalStageStart(df);
  df.instructions.forEach((ins, index) => {
    if (index < from || ins.keyword !== 'RUN' || ins.opaque) return;
    for (const words of commandsOf(ins)) {
      const at = aptInstallIndex(words);
      if (at < 0) continue;
      const packages: ShellWord[] = [];
      for (let k = at + 1; k < words.length; k += 1) {
        const v = words[k]!.value;
        if (APT_VALUE_OPTIONS.has(v)) k += 1;
        else if (!v.startsWith('-')) packages.push(words[k]!);
      }
      found.push({ instruction: ins, instructionIndex: index, words, argsFrom: at + 1, packages });
    }
  });
  return found;
}

/**
 * True when the final stage copies the build context's requirements.txt into the image and pip
 * installs it with `-r`: then new Python packages belong in that file. Only a requirements.txt at
 * the top of the build context (the project folder) counts; `COPY . dest` counts too.
 */
export function usesContextRequirementsTxt(df: ParsedDockerfile, pips: PipInstall[] = findPipInstalls(df)): boolean {
  const installsIt = pips.some((p) => p.requirementFiles.some((f) => basename(f) === 'requirements.txt'));
  if (!installsIt) return false;
  const from = finalStageStart(df);
  return df.instructions.some((ins, index) => {
    if (index < from || (ins.keyword !== 'COPY' && ins.keyword !== 'ADD')) return false;
    let args: string[];
    if (ins.execArgs) args = ins.execArgs;
    else if (!ins.opaque) args = ins.tokens.filter((t) => t.kind === 'word').map((t) => t.value);
    else return false;
    // `--from=stage` copies from another image, not from the project folder.
    if (args.some((a) => a.startsWith('--from'))) return false;
    const sources = args.filter((a) => !a.startsWith('--')).slice(0, -1);
    return sources.some((s) => ['requirements.txt', './requirements.txt', '.', './'].includes(s));
  });
}

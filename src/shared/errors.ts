/**
 * Typed errors with a stable code and a sentence a DS01 user can act on.
 *
 * `code` is for logs, tests and metrics; `userMessage` is what Slack shows. Never put a stack trace
 * or an engine error string into `userMessage`: say what happened and what to do next.
 * `retryable` tells the queue whether a re-run could help (engine hiccup) or not (user error).
 */
export const ErrorCode = {
  NotRegistered: 'not_registered',
  BadInput: 'bad_input',
  UnknownProject: 'unknown_project',
  NoDockerfile: 'no_dockerfile',
  AlreadyRunning: 'already_running',
  NotFound: 'not_found',
  NotOwner: 'not_owner',
  QuotaReached: 'quota_reached',
  TooManyGpus: 'too_many_gpus',
  NoGpuFree: 'no_gpu_free',
  NoHostOnline: 'no_host_online',
  EngineDown: 'engine_down',
  BuildFailed: 'build_failed',
  BuildTimeout: 'build_timeout',
  Busy: 'busy',
  Config: 'config_invalid',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class Ds01Error extends Error {
  readonly code: ErrorCode;
  readonly userMessage: string;
  readonly retryable: boolean;

  constructor(code: ErrorCode, userMessage: string, opts: { cause?: unknown; retryable?: boolean; detail?: string } = {}) {
    super(opts.detail ?? userMessage, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'Ds01Error';
    this.code = code;
    this.userMessage = userMessage;
    this.retryable = opts.retryable ?? false;
  }
}

export function isDs01Error(err: unknown): err is Ds01Error {
  return err instanceof Ds01Error;
}

/** The sentence to show for any error: ours when typed, a generic apology otherwise. */
export function userMessageOf(err: unknown): string {
  if (isDs01Error(err)) return err.userMessage;
  return 'Something went wrong on our side. Nothing was changed; please try again, and if it keeps happening tell the DS01 admins.';
}

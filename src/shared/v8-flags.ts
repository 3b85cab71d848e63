import v8 from 'node:v8';

/**
 * V8 settings of the bot process, set at start-up before it serves a request.
 *
 * `--no-allocation-site-pretenuring`. V8 watches each place in the code that makes objects, and
 * when most of one place's objects are still alive at a young-generation collection, it starts
 * making them directly in the old generation. A burst of slash commands fools it: a collection
 * that lands mid-burst finds most of the burst's ack bodies (and launch follow-ups) alive, so from
 * then on every ack body is made in the old generation. There it dies at once but stays until the
 * next full collection, and every young collection until then treats it as a root: it copies the
 * young objects the dead body points to, and promotes them. In the ack benchmark this doubled
 * what each young collection copied (about 2 MB against 1 MB) and made its pause 1.5–1.8× a bare
 * Bolt app's; without pretenuring the bot's pauses are as short as the bare app's (BENCHMARKS.md,
 * "The ack goal, and what limits the rest"). Nothing the bot keeps for long is made on the request
 * path, so it loses nothing by it; building the FAQ index at start-up takes as long either way
 * (~280 ms).
 */
export const BOT_V8_FLAGS = ['--no-allocation-site-pretenuring'] as const;

/** V8 reads this flag at each collection, so setting it before the first request is enough. */
export function applyV8Flags(): readonly string[] {
  for (const flag of BOT_V8_FLAGS) v8.setFlagsFromString(flag);
  return BOT_V8_FLAGS;
}

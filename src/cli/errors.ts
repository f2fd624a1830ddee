import { RevertlmError } from '../index.js';

export { UsageError } from '../index.js';

/**
 * Prints an error and returns the exit code: every RevertlmError (a problem the user can fix) is one
 * line plus its hint, exit 2; anything else is a bug, exit 1. With `json`, stdout also gets exactly one
 * object `{"error", "hint"}` (the --json contract holds for failures too). Stack traces only with
 * REVERTLM_DEBUG=1.
 */
export function reportError(e: unknown, o: { json?: boolean } = {}): number {
  const err = e instanceof Error ? e : new Error(String(e));
  const hint = err instanceof RevertlmError ? err.hint : undefined;
  process.stderr.write(`revertlm: error: ${err.message}\n`);
  if (hint) process.stderr.write(`  hint: ${hint}\n`);
  if (process.env.REVERTLM_DEBUG === '1' && err.stack) process.stderr.write(`${err.stack}\n`);
  if (o.json) process.stdout.write(`${JSON.stringify({ error: err.message, hint: hint ?? null })}\n`);
  return err instanceof RevertlmError ? 2 : 1;
}

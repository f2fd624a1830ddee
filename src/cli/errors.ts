/** An error caused by the user's input: printed as one clear line (plus a hint), never a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** Prints an error for a human and returns the exit code. Stack traces only with REVERTLM_DEBUG=1. */
export function reportError(e: unknown): number {
  const err = e instanceof Error ? e : new Error(String(e));
  const hint = (err as { hint?: string }).hint;
  process.stderr.write(`revertlm: error: ${err.message}\n`);
  if (hint) process.stderr.write(`  hint: ${hint}\n`);
  if (process.env.REVERTLM_DEBUG === '1' && err.stack) process.stderr.write(`${err.stack}\n`);
  return err instanceof UsageError || hint ? 2 : 1;
}

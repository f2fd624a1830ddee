// The one error type of revertlm: a problem the user (or the peer, or the data) can fix, with a hint
// that says how. Every module's errors extend it; the CLI prints one line (plus the hint) and exits 2.

export class RevertlmError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad option, flag or configuration value. */
export class UsageError extends RevertlmError {}

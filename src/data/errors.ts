// The one error type of src/data: a problem with the user's input (path, format, field...),
// carrying a hint that says how to fix it. `message` is "<problem>: <hint>" so that code
// printing only `.message` still shows the fix.

export class InputError extends Error {
  override readonly name = 'InputError';
  readonly problem: string;
  readonly hint: string;

  constructor(problem: string, hint: string) {
    super(`${problem}: ${hint}`);
    this.problem = problem;
    this.hint = hint;
  }
}

/** Shortens a value for inclusion in an error message. */
export function preview(s: string, max = 60): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

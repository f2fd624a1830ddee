// The error of src/data: a problem with the user's input (path, format, field...), with a hint
// that says how to fix it.
import { RevertlmError } from '../util/errors.js';

export class InputError extends RevertlmError {
  declare readonly hint: string;
  constructor(problem: string, hint: string) {
    super(problem, hint);
  }
}

/** Shortens a value for inclusion in an error message. */
export function preview(s: string, max = 60): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

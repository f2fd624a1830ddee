// A file name read from a file (a checkpoint index, a shard map) names a file inside that file's own
// directory: never a path, so `../../elsewhere/x` or `..` cannot make a reader open something else.
import { join } from 'node:path';
import { RevertlmError } from './errors.js';

export class PathEscapeError extends RevertlmError {}

/** Why `name` is not a plain file name, or null when it is one. */
export function notAPlainFileName(name: unknown): string | null {
  if (typeof name !== 'string') return `${JSON.stringify(name) ?? String(name)} is not a string`;
  if (name === '' || name === '.' || name === '..') return `'${name}' is not a file name`;
  if (/[/\\\0]/.test(name)) return `'${name}' is a path, not a file name`;
  if (Buffer.byteLength(name) > 255) return `'${name.slice(0, 40)}…' is longer than 255 bytes`;
  return null;
}

/** `dir/name` for a `name` that `source` listed; PathEscapeError when it is not a plain file name. */
export function fileInDir(dir: string, name: unknown, source: string): string {
  const why = notAPlainFileName(name);
  if (why) throw new PathEscapeError(`${source} lists ${why}: every file it names must be inside ${dir}`, `${source} is damaged or was crafted; restore it from a trusted copy`);
  return join(dir, name as string);
}

// The shared secret devices authenticate with: read from a file on both sides, compared in constant
// time (SHA-256 digests of equal length through crypto.timingSafeEqual).
import { RevertlmError } from '../../util/errors.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';

export class TokenFileError extends RevertlmError {}

const MAX_TOKEN_BYTES = 4096;

/** The token in `path` (surrounding whitespace and the final newline removed). Refuses a missing or empty file. */
export function readTokenFile(path: string | undefined, flag = '--token-file'): string {
  const hint = `put a shared secret in a file (e.g. \`openssl rand -hex 32 > token\`) and pass ${flag} token on both sides`;
  if (!path) throw new TokenFileError(`${flag} is required: devices authenticate with a shared token`, hint);
  if (!existsSync(path) || !statSync(path).isFile()) throw new TokenFileError(`${flag} ${path}: no such file`, hint);
  const token = readFileSync(path, 'utf8').trim();
  if (!token) throw new TokenFileError(`${flag} ${path} is empty: refusing to run without a token`, hint);
  if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) throw new TokenFileError(`${flag} ${path}: the token is longer than ${MAX_TOKEN_BYTES} bytes`);
  return token;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** A constant-time check against one token (both sides hashed, so lengths never leak or differ). */
export function tokenChecker(token: string): (given: string) => boolean {
  const want = digest(token);
  return (given) => timingSafeEqual(digest(given), want);
}

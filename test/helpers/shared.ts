import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { projectRoot } from '../../src/util/root.js';

export { projectRoot };

/** Absolute path of ../shared/<rel>, or null when ../shared (or that file) is absent. */
export function sharedPath(rel: string): string | null {
  const p = resolve(projectRoot(), '..', 'shared', rel);
  return existsSync(p) ? p : null;
}

export const SHARED_MISSING = (what: string) => `../shared/${what} not found: skipped (these checks need the shared fixtures beside the checkout)`;

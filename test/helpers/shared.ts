import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('project root not found');
    dir = up;
  }
  return dir;
}

/** Absolute path of ../shared/<rel>, or null when ../shared (or that file) is absent. */
export function sharedPath(rel: string): string | null {
  const p = resolve(projectRoot(), '..', 'shared', rel);
  return existsSync(p) ? p : null;
}

export const SHARED_MISSING = (what: string) => `../shared/${what} not found: skipped (these checks need the shared fixtures beside the checkout)`;

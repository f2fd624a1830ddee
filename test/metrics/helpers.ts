import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Nearest ancestor of this file that holds package.json (works from test/ and dist/test/). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** `../shared` next to the project, or null when this checkout has none. */
export function sharedDir(): string | null {
  const dir = join(projectRoot(), '..', 'shared');
  return existsSync(dir) ? dir : null;
}

export function assertClose(actual: number, expected: number, tol = 1e-6, message = ''): void {
  assert.ok(
    Number.isFinite(actual) && Math.abs(actual - expected) <= tol,
    `${message} expected ${expected} ± ${tol}, got ${actual}`,
  );
}

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/root.js';

export { projectRoot };

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

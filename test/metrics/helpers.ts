import assert from 'node:assert/strict';
import { projectRoot } from '../helpers/shared.js';

export { projectRoot };

export function assertClose(actual: number, expected: number, tol = 1e-6, message = ''): void {
  assert.ok(
    Number.isFinite(actual) && Math.abs(actual - expected) <= tol,
    `${message} expected ${expected} ± ${tol}, got ${actual}`,
  );
}

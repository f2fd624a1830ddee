// Shared helpers for the src/data tests: temporary files and the optional ../shared folder.

import { projectRoot } from '../helpers/shared.js';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'revertlm-data-'));

/** Writes `content` to a fresh temporary file and returns its path. */
export function tmpFile(name: string, content: string): string {
  const p = join(mkdtempSync(join(dir, 'f-')), name);
  writeFileSync(p, content);
  return p;
}

/** Directory of a path that does not exist. */
export function missingPath(name: string): string {
  return join(dir, 'does-not-exist', name);
}

export { projectRoot };

/** Asserts that fn throws an InputError whose message matches every pattern; returns it. */
export function throwsInput(fn: () => unknown, ...patterns: RegExp[]): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof InputError, `expected an InputError, got ${String(caught)}`);
  for (const p of patterns) assert.match(`${caught.message}: ${caught.hint}`, p);
  assert.ok(caught.hint.length > 0, 'InputError must carry a hint');
  return caught;
}

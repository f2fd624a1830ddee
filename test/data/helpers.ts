// Shared helpers for the src/data tests: temporary files and the optional ../shared folder.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** The project root: the nearest ancestor of this file holding package.json. */
export function projectRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('package.json not found above the test file');
    d = up;
  }
  return d;
}

/** /work/shared/data (or wherever ../shared/data sits next to the project), if present. */
export function sharedData(): string | undefined {
  const p = join(projectRoot(), '..', 'shared', 'data');
  return existsSync(p) ? p : undefined;
}

/** Asserts that fn throws an InputError whose message matches every pattern; returns it. */
export function throwsInput(fn: () => unknown, ...patterns: RegExp[]): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof InputError, `expected an InputError, got ${String(caught)}`);
  for (const p of patterns) assert.match(caught.message, p);
  assert.ok(caught.hint.length > 0, 'InputError must carry a hint');
  return caught;
}

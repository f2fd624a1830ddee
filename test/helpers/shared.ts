// The fixtures in ../shared (real models, public text sets). A checkout without them skips the
// tests that need them with a clear message; with REVERTLM_REQUIRE_SHARED=1 (CI) a missing fixture
// fails the test instead, so CI never passes on skipped checks.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { projectRoot } from '../../src/util/root.js';

export { projectRoot };

export const requireShared = () => process.env.REVERTLM_REQUIRE_SHARED === '1';

/** Absolute path of ../shared/<rel>, or null when ../shared (or that file) is absent (an error under REVERTLM_REQUIRE_SHARED=1). */
export function sharedPath(rel: string): string | null {
  const p = resolve(projectRoot(), '..', 'shared', rel);
  if (existsSync(p)) return p;
  if (requireShared()) throw new Error(`${p} is missing and REVERTLM_REQUIRE_SHARED=1: this test must run on the real fixtures`);
  return null;
}

export const SHARED_MISSING = (what: string) => `../shared/${what} not found: skipped (these checks need the shared fixtures beside the checkout)`;

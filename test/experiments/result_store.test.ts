// Results kept between runs: reused only when resuming the same scope, written atomically, removed
// once the experiment's own results are written.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultStore } from '../../src/experiments/result_store.js';
import type { RunAttackResult } from '../../src/experiments/attack.js';

const root = mkdtempSync(join(tmpdir(), 'revertlm-store-'));
after(() => rmSync(root, { recursive: true, force: true }));

const result = (rougeL: number): RunAttackResult => ({
  split: 1, attack: 'nn', drift: 0.5,
  scenario: { name: 'exact', description: 'd', settings: {} as never },
  sampling: { segments: 2, of: 9, method: 'seeded uniform sample', seed: 0, maxTokens: 16, chance_rougeL: 0.1, near_copy_share: 0 },
  scores: { rougeL } as never, references: ['a b', 'c d'], reconstructions: ['a x', 'c d'], examples: [],
});

test('a result is reused only when resuming the same scope', () => {
  const dir = join(root, 'a');
  const first = ResultStore.open(dir, { config: 1 }, { resume: false });
  assert.equal(first.get('k1'), null, 'nothing to reuse without resume');
  first.put('k1', result(0.25));
  first.put('k2', result(0.5));
  assert.equal(first.size, 2);
  assert.ok(readdirSync(dir).every((f) => !f.endsWith('.tmp')), 'no temporary files left behind');

  const resumed = ResultStore.open(dir, { config: 1 }, { resume: true });
  assert.deepEqual(resumed.get('k1'), result(0.25));
  assert.equal(resumed.get('k3'), null);
  assert.equal(resumed.reused, 1);

  const other = ResultStore.open(dir, { config: 2 }, { resume: true });
  assert.equal(other.size, 0, 'another scope: the earlier results are discarded');
  assert.equal(other.get('k1'), null);

  other.put('k1', result(0.75));
  const fresh = ResultStore.open(dir, { config: 2 }, { resume: false });
  assert.equal(fresh.size, 0, 'without resume a run starts afresh');
  fresh.remove();
  assert.ok(!existsSync(dir));
});

test('an unreadable result file is recomputed, not an error', () => {
  const dir = join(root, 'b');
  const s = ResultStore.open(dir, 'scope', { resume: false });
  s.put('k', result(1));
  const file = readdirSync(dir).find((f) => f.endsWith('.result.json'))!;
  writeFileSync(join(dir, file), '{"key": "k", "res');
  assert.equal(ResultStore.open(dir, 'scope', { resume: true }).get('k'), null);
});

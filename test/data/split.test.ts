import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitDisjoint } from '../../src/data/index.js';
import { throwsInput } from './helpers.js';

const texts = Array.from({ length: 103 }, (_, i) => `t${i}`);

test('splitDisjoint: sizes follow the fractions, all texts used, no overlap', () => {
  const [train, held] = splitDisjoint(texts, [0.8, 0.2], 1);
  assert.equal(train!.length + held!.length, 103);
  assert.equal(train!.length, 82); // 82.4 -> 82, 20.6 -> 21 (largest remainder)
  assert.equal(held!.length, 21);
  assert.equal(new Set([...train!, ...held!]).size, 103);
});

test('splitDisjoint: deterministic per seed', () => {
  assert.deepEqual(splitDisjoint(texts, [0.5, 0.5], 9), splitDisjoint(texts, [0.5, 0.5], 9));
  assert.notDeepEqual(splitDisjoint(texts, [0.5, 0.5], 9), splitDisjoint(texts, [0.5, 0.5], 10));
});

test('splitDisjoint: duplicates never land in two sets', () => {
  const dup = [...texts, ...texts];
  const [a, b] = splitDisjoint(dup, [0.5, 0.5], 2);
  assert.equal(a!.filter((t) => b!.includes(t)).length, 0);
  assert.equal(a!.length + b!.length, 103);
});

test('splitDisjoint: fractions below 1 leave the rest out', () => {
  const parts = splitDisjoint(texts, [0.1, 0.1, 0.1], 3);
  assert.deepEqual(parts.map((p) => p.length), [10, 10, 10]);
});

test('splitDisjoint errors: sum above 1, bad fraction, empty split', () => {
  throwsInput(() => splitDisjoint(texts, [0.8, 0.3], 1), /sum to 1\.1/);
  throwsInput(() => splitDisjoint(texts, [0.8, 0], 1), /invalid split fraction 0/);
  throwsInput(() => splitDisjoint(['a', 'b'], [0.9, 0.1], 1), /split 1 .* would be empty: only 2 distinct texts/);
});

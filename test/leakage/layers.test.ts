import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLayers } from '../../src/leakage/index.js';

test('parseLayers reads ranges and lists', () => {
  assert.deepEqual(parseLayers('0..5', 5), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(parseLayers('1,3,5', 5), [1, 3, 5]);
  assert.deepEqual(parseLayers(' 4, 0..2 ,2', 5), [0, 1, 2, 4]);
  assert.deepEqual(parseLayers('3..3', 5), [3]);
});

test('parseLayers rejects malformed and out-of-range layers', () => {
  assert.throws(() => parseLayers('0..6', 5), /out of range.*0\.\.5/);
  assert.throws(() => parseLayers('5..1', 5), /backwards/);
  assert.throws(() => parseLayers('a', 5), /cannot read/);
  assert.throws(() => parseLayers('-1', 5), /cannot read/);
  assert.throws(() => parseLayers('', 5), /cannot read/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactMatch, tokenAccuracy, tokenSetF1, tokenSetPRF } from '../../src/metrics/index.js';
import { assertClose } from './helpers.js';

test('positional token accuracy is over the reference length', () => {
  assert.equal(tokenAccuracy('a b c d', 'a x c'), 0.5);
  assert.equal(tokenAccuracy('a b', 'a b c d'), 1);
  assert.equal(tokenAccuracy('a b c', 'b c'), 0);
  assert.equal(tokenAccuracy('The cat', 'the cat'), 0.5);
  assert.equal(tokenAccuracy('The cat sat.', 'The cat sat.'), 1);
  assertClose(tokenAccuracy([5, 6, 7], [5, 6, 8]), 2 / 3, 1e-12);
  assert.equal(tokenAccuracy([1], ['1']), 0);
});

test('token-set F1 ignores order and repeats', () => {
  // H = {a, b, x}, R = {a, b, c, d}: P = 2/3, R = 1/2, F1 = 4/7
  const s = tokenSetPRF('a b c d', 'a a b x');
  assertClose(s.precision, 2 / 3, 1e-12);
  assertClose(s.recall, 1 / 2, 1e-12);
  assertClose(s.f1, 4 / 7, 1e-12);
  assert.equal(tokenSetF1('a b c', 'c b a'), 1);
  assert.equal(tokenSetF1('a b c', 'x y z'), 0);
});

test('exact match compares token sequences', () => {
  assert.equal(exactMatch('a b', 'a b'), 1);
  assert.equal(exactMatch('a  b\n', ' a b'), 1);
  assert.equal(exactMatch('a b', 'a B'), 0);
  assert.equal(exactMatch('a b', 'a b c'), 0);
  assert.equal(exactMatch([1, 2], [1, 2]), 1);
});

test('empty reference: 1 only when the hypothesis is empty too', () => {
  assert.equal(tokenAccuracy('', ''), 1);
  assert.equal(tokenAccuracy('', 'a'), 0);
  assert.equal(tokenAccuracy('a b', ''), 0);
  assert.equal(tokenSetF1('', ''), 1);
  assert.equal(tokenSetF1('', 'a'), 0);
  assert.equal(tokenSetF1('a', ''), 0);
  assert.equal(exactMatch('', '  '), 1);
  assert.equal(exactMatch('a', ''), 0);
});

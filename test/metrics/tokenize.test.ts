import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rougeTokenize, toTokens, whitespaceTokenize } from '../../src/metrics/index.js';

test('rougeTokenize lowercases and treats every non [a-z0-9] run as a separator', () => {
  assert.deepEqual(rougeTokenize('Hello, World!'), ['hello', 'world']);
  assert.deepEqual(rougeTokenize("jane.doe@example.com isn't 38.5"), ['jane', 'doe', 'example', 'com', 'isn', 't', '38', '5']);
  assert.deepEqual(rougeTokenize('café'), ['caf']);
  assert.deepEqual(rougeTokenize('  ...  '), []);
  assert.deepEqual(rougeTokenize(''), []);
});

test('whitespaceTokenize splits like Python str.split(), keeping case and punctuation', () => {
  assert.deepEqual(whitespaceTokenize('Once upon a time, Lily.'), ['Once', 'upon', 'a', 'time,', 'Lily.']);
  assert.deepEqual(whitespaceTokenize(' \t a\n\nb\u00a0c\u3000d\x1fe  '), ['a', 'b', 'c', 'd', 'e']);
  // U+FEFF is whitespace for JavaScript's \s but not for Python.
  assert.deepEqual(whitespaceTokenize('a\ufeffb'), ['a\ufeffb']);
  assert.deepEqual(whitespaceTokenize('   '), []);
});

test('toTokens passes token arrays through untouched', () => {
  const ids = [3, 1, 4];
  assert.equal(toTokens(ids, whitespaceTokenize), ids);
  assert.deepEqual(toTokens('A b', rougeTokenize), ['a', 'b']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lcsLength, rougeL, rougeN, rougeScores, windowRougeScores } from '../../src/metrics/index.js';
import { assertClose } from './helpers.js';

test('ROUGE-1 clips repeated unigrams', () => {
  // ref: the×2 cat sat on mat (6); hyp: the×3 cat (4); overlap = min(2,3) + 1 = 3.
  // P = 3/4, R = 3/6, F = 2·0.75·0.5 / 1.25 = 0.6
  const s = rougeN('the cat sat on the mat', 'the cat the the', 1);
  assertClose(s.precision, 0.75, 1e-12);
  assertClose(s.recall, 0.5, 1e-12);
  assertClose(s.f1, 0.6, 1e-12);
});

test('ROUGE-2 counts shared bigrams', () => {
  // ref bigrams: the-cat cat-sat sat-on on-the the-mat; hyp: the-cat cat-sat sat-on on-a a-mat → 3/5 each.
  const s = rougeN('the cat sat on the mat', 'the cat sat on a mat', 2);
  assertClose(s.precision, 0.6, 1e-12);
  assertClose(s.recall, 0.6, 1e-12);
  assertClose(s.f1, 0.6, 1e-12);
});

test('ROUGE-L is the F1 of the longest common subsequence', () => {
  assert.equal(lcsLength(['a', 'b', 'c', 'd', 'e', 'f'], ['a', 'c', 'e', 'x']), 3);
  assert.equal(lcsLength(['a', 'b'], []), 0);
  assert.equal(lcsLength([1, 2, 3], ['1', '2', '3']), 0);
  // LCS "a c e" = 3: P = 3/4, R = 3/6 → F = 0.6
  const s = rougeL('a b c d e f', 'a c e x');
  assertClose(s.precision, 0.75, 1e-12);
  assertClose(s.recall, 0.5, 1e-12);
  assertClose(s.f1, 0.6, 1e-12);
  // A reversed sentence keeps only one in-order token: 1/7 each way.
  assertClose(rougeL('a b c d e f g', 'g f e d c b a').f1, 1 / 7, 1e-12);
});

test('identical texts score 1, case and punctuation are ignored', () => {
  assert.deepEqual(rougeScores('The cat sat.', 'The cat sat.'), { rouge1: 1, rouge2: 1, rougeL: 1 });
  assert.deepEqual(rougeScores('Hello, World!', 'hello world'), { rouge1: 1, rouge2: 1, rougeL: 1 });
});

test('an empty side scores 0', () => {
  assert.deepEqual(rougeScores('some text here', ''), { rouge1: 0, rouge2: 0, rougeL: 0 });
  assert.deepEqual(rougeScores('', 'some text here'), { rouge1: 0, rouge2: 0, rougeL: 0 });
  assert.deepEqual(rougeScores('', ''), { rouge1: 0, rouge2: 0, rougeL: 0 });
  // Only punctuation tokenises to nothing.
  assert.equal(rougeL('!!!', 'hello').f1, 0);
  // A one-token hypothesis has no bigram: ROUGE-2 is 0 while ROUGE-1 is not.
  const s = rougeScores('Hello, World!', 'Hello,');
  assert.equal(s.rouge2, 0);
  assertClose(s.rouge1, 2 / 3, 1e-12);
});

test('windowRougeScores: as rougeScores, but two sides without words agree', () => {
  assert.deepEqual(windowRougeScores('', ''), { rouge1: 1, rouge2: 1, rougeL: 1 });
  assert.deepEqual(windowRougeScores('-- >> __', '!!'), { rouge1: 1, rouge2: 1, rougeL: 1 });
  assert.deepEqual(windowRougeScores('-- >>', 'text'), { rouge1: 0, rouge2: 0, rougeL: 0 });
  assert.deepEqual(windowRougeScores('some text here', 'some text'), rougeScores('some text here', 'some text'));
});

test('token arrays (e.g. model ids) are used as given', () => {
  assertClose(rougeN([1, 2, 3, 4], [1, 2, 9, 4], 1).f1, 0.75, 1e-12);
  assertClose(rougeN([1, 2, 3, 4], [1, 2, 9, 4], 2).f1, 1 / 3, 1e-12);
  assert.equal(rougeN([1, 2], ['1', '2'], 1).f1, 0);
});

test('rougeN rejects a non-positive n', () => {
  assert.throws(() => rougeN('a', 'a', 0), RangeError);
});

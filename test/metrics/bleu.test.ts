import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FLOAT_MIN,
  brevityPenalty,
  closestRefLength,
  corpusBleu,
  corpusBleuText,
  modifiedPrecision,
  sentenceBleu,
  sentenceBleuText,
  whitespaceTokenize as w,
} from '../../src/metrics/index.js';
import { assertClose } from './helpers.js';

test('modified precision clips by the maximum count in any reference', () => {
  assert.deepEqual(modifiedPrecision([w('the cat')], w('the the the'), 1), { numerator: 1, denominator: 3 });
  assert.deepEqual(modifiedPrecision([w('the cat'), w('the the mat')], w('the the the'), 1), { numerator: 2, denominator: 3 });
  // No hypothesis n-grams: denominator is max(1, 0).
  assert.deepEqual(modifiedPrecision([w('a b c')], w('a'), 2), { numerator: 0, denominator: 1 });
});

test('closest reference length prefers the shorter one on ties; brevity penalty', () => {
  assert.equal(closestRefLength([w('a b c d'), w('a b c d e f')], 5), 4);
  assert.equal(closestRefLength([w('a b c d e f'), w('a b')], 5), 6);
  assert.equal(brevityPenalty(6, 7), 1);
  assert.equal(brevityPenalty(6, 6), 1);
  assert.equal(brevityPenalty(6, 0), 0);
  assertClose(brevityPenalty(6, 5), Math.exp(-0.2), 1e-15);
});

test('sentence BLEU-4 on a hand-computed example', () => {
  // ref "the cat sat on the mat" (6 tokens), hyp "the cat sat on mat" (5 tokens)
  // p1 = 5/5, p2 = 3/4 (not "on mat"), p3 = 2/3, p4 = 1/2
  // BP = exp(1 - 6/5) = exp(-0.2); geometric mean = (1 · 3/4 · 2/3 · 1/2)^(1/4) = 0.25^0.25 = 1/√2
  const expected = Math.exp(-0.2) * Math.SQRT1_2; // 0.578926...
  assertClose(sentenceBleuText('the cat sat on the mat', 'the cat sat on mat'), expected, 1e-12);
  assertClose(sentenceBleu([w('the cat sat on the mat')], w('the cat sat on mat')), expected, 1e-12);
  // Smoothing changes nothing when every precision is non-zero.
  assertClose(sentenceBleuText('the cat sat on the mat', 'the cat sat on mat', { smoothing: 'method1' }), expected, 1e-12);
});

test('identical texts of 4+ tokens score 1; case and punctuation matter', () => {
  assert.equal(sentenceBleuText('Once upon a time, Lily.', 'Once upon a time, Lily.'), 1);
  assert.equal(sentenceBleuText('Hello, World!', 'hello world'), 0);
});

test('zero higher-order precision: NLTK uses sys.float_info.min without smoothing, epsilon 0.1 with method1', () => {
  // ref "a b c d", hyp "d c b a": p1 = 4/4, p2 = 0/3, p3 = 0/2, p4 = 0/1, BP = 1
  const plain = sentenceBleuText('a b c d', 'd c b a');
  assert.ok(Math.abs(plain / FLOAT_MIN ** 0.75 - 1) < 1e-12, `got ${plain}`);
  assert.ok(plain > 0 && plain < 1e-230);
  const smooth = sentenceBleuText('a b c d', 'd c b a', { smoothing: 'method1' });
  assertClose(smooth, (1 * (0.1 / 3) * (0.1 / 2) * (0.1 / 1)) ** 0.25, 1e-12);
  // A 3-token identical pair has no 4-gram at all, so even it is ~0 without smoothing.
  assert.ok(sentenceBleuText('a b c', 'a b c') < 1e-70);
});

test('no unigram match or an empty hypothesis gives exactly 0, smoothing or not', () => {
  assert.equal(sentenceBleuText('the cat sat', 'dogs run fast'), 0);
  assert.equal(sentenceBleuText('the cat sat', 'dogs run fast', { smoothing: 'method1' }), 0);
  assert.equal(sentenceBleuText('the cat sat on the mat', ''), 0);
  assert.equal(sentenceBleuText('', ''), 0);
});

test('custom weights: BLEU-1 is BP times unigram precision', () => {
  // hyp "the the cat" vs ref "the cat sat": p1 = 2/3 (one "the" clipped), BP = 1
  assertClose(sentenceBleuText('the cat sat', 'the the cat', { weights: [1] }), 2 / 3, 1e-12);
});

test('corpus BLEU pools counts instead of averaging sentence scores', () => {
  // pair 1: "a b c d" = "a b c d"; pair 2: ref "e f g h", hyp "e f x h"
  // p1 = (4+3)/(4+4) = 7/8, p2 = (3+1)/(3+3) = 2/3, p3 = (2+0)/(2+2) = 1/2, p4 = (1+0)/(1+1) = 1/2, BP = 1
  const refs = ['a b c d', 'e f g h'];
  const hyps = ['a b c d', 'e f x h'];
  const expected = (7 / 8 * 2 / 3 * 1 / 2 * 1 / 2) ** 0.25;
  assertClose(corpusBleuText(refs, hyps), expected, 1e-12);
  assertClose(corpusBleu(refs.map((r) => [w(r)]), hyps.map(w)), expected, 1e-12);
  const meanOfSentences = (sentenceBleuText(refs[0]!, hyps[0]!) + sentenceBleuText(refs[1]!, hyps[1]!)) / 2;
  assert.ok(Math.abs(meanOfSentences - expected) > 0.1);
  assert.throws(() => corpusBleuText(['a'], []), RangeError);
});

test('token ids work as tokens', () => {
  assertClose(sentenceBleu([[1, 2, 3, 4, 5]], [1, 2, 3, 4, 5]), 1, 1e-12);
  assert.equal(sentenceBleu([[1, 2, 3, 4]], ['1', '2', '3', '4']), 0);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RevertlmError } from '../../src/util/errors.js';
import { corpusBleuText, scoreAll } from '../../src/metrics/index.js';
import { assertClose } from './helpers.js';

const refs = [
  'Please call me at 555-0142 or write to jane.doe@example.com before Friday.',
  'Once upon a time, there was a little girl named Lily.',
  'the weather is nice today',
];

test('perfect reconstructions score 1 everywhere', () => {
  assert.deepEqual(scoreAll(refs, refs), {
    n: 3,
    rouge1: 1,
    rouge2: 1,
    rougeL: 1,
    bleu: 1,
    token_acc: 1,
    token_f1: 1,
    exact_match: 1,
    pii: 1,
  });
});

test('averages per-pair metrics and pools BLEU and PII', () => {
  const hyps = [
    'Please call me at 555-0142', // phone recovered, e-mail not
    '', // Lily lost; every metric 0 for this pair
    'the weather is nice today',
  ];
  const s = scoreAll(refs, hyps);
  assert.equal(s.n, 3);
  assert.equal(s.exact_match, 1 / 3);
  // token accuracy: 5/11 (first 5 of 11 whitespace tokens), 0, 1
  assertClose(s.token_acc, (5 / 11 + 0 + 1) / 3, 1e-12);
  // token-set F1 of pair 1: |H| = 5, |R| = 11 distinct, common 5 → P = 1, R = 5/11, F1 = 10/16
  assertClose(s.token_f1, (10 / 16 + 0 + 1) / 3, 1e-12);
  assert.equal(s.pii, 1 / 3);
  assertClose(s.bleu, corpusBleuText(refs, hyps), 0);
  assert.ok(s.rouge1 > 0 && s.rouge1 < 1);
  assert.ok(s.rougeL <= s.rouge1);
});

test('a window without words (only symbols) scores ROUGE 1 when its reconstruction has none either, 0 otherwise', () => {
  // rouge-score gives an empty side 0, which would score an exact reconstruction of an e-mail's rule 0.
  const rule = '______________________________';
  const s = scoreAll([rule, 'hello there'], [rule, 'hello there']);
  assert.deepEqual([s.rouge1, s.rouge2, s.rougeL, s.exact_match], [1, 1, 1, 1], 'both windows recovered exactly');
  assert.equal(scoreAll([rule], ['>>>>']).rougeL, 1, 'ROUGE sees no words on either side: they agree, as "Hello, World!" and "hello world" do');
  assert.equal(scoreAll([rule], ['hello']).rougeL, 0);
  assert.equal(scoreAll(['hello'], [rule]).rougeL, 0);
});

test('pii is null when no reference holds PII', () => {
  assert.equal(scoreAll(['the weather is nice'], ['the weather']).pii, null);
});

test('rejects mismatched or empty inputs', () => {
  assert.throws(() => scoreAll(['a'], []), RangeError);
  // No pairs is a problem with the user's selection (one line and a hint), not a bug.
  assert.throws(() => scoreAll([], []), (e: unknown) => e instanceof RevertlmError && /nothing to score/.test(e.message) && !!e.hint);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainBPE, countWords, preTokenize, toByteLevel, fromByteLevel, BYTE_ALPHABET } from '../../src/tokenizer/index.js';
import { naiveBPE, syntheticCorpus } from './helpers.js';

const SPECIALS = { bos: '<|endoftext|>', eos: '<|endoftext|>', pad: '<pad>' };

test('pre-tokenisation follows GPT-2: leading spaces stay on words, contractions and digits split', () => {
  assert.deepEqual(preTokenize("Hello world, it's 2024!  ok"), ['Hello', ' world', ',', ' it', "'s", ' 2024', '!', ' ', ' ok']);
  assert.deepEqual(preTokenize('a\n\nb'), ['a', '\n', '\n', 'b']);
  assert.deepEqual(preTokenize('jane.doe@example.com'), ['jane', '.', 'doe', '@', 'example', '.', 'com']);
});

test('the byte-level alphabet is GPT-2\'s: 256 distinct printable characters, reversible', () => {
  assert.equal(new Set(BYTE_ALPHABET).size, 256);
  assert.equal(toByteLevel(' '), 'Ġ');
  assert.equal(toByteLevel('\n'), 'Ċ');
  assert.equal(toByteLevel('é'), 'Ã©');
  for (const s of ['plain', ' spaced\ttab\r\n', 'Zürich 東京 😀 \u0000\u00ad']) assert.equal(fromByteLevel(toByteLevel(s)), s);
});

test('the incremental trainer makes exactly the merges of textbook BPE', () => {
  const texts = syntheticCorpus(7, 60);
  for (const [vocabSize, minFrequency] of [[400, 2], [330, 1], [600, 5]] as const) {
    const fast = trainBPE(texts, { vocabSize, minFrequency, specialTokens: SPECIALS });
    const ref = naiveBPE(texts, vocabSize, minFrequency, SPECIALS);
    assert.ok(ref.merges.length > 20, 'the corpus must allow a meaningful number of merges');
    assert.deepEqual(fast.merges, ref.merges, `merges differ at vocab ${vocabSize}, minFrequency ${minFrequency}`);
    assert.deepEqual(fast.vocab, ref.vocab);
  }
});

test('vocab size is respected, tokens are unique, and training stops when pairs run out', () => {
  const texts = syntheticCorpus(1);
  const m = trainBPE(texts, { vocabSize: 500, specialTokens: SPECIALS });
  assert.equal(m.vocab.length, 500);
  assert.equal(new Set(m.vocab).size, 500);
  assert.deepEqual(m.vocab.slice(0, 2), ['<|endoftext|>', '<pad>']);
  assert.deepEqual(m.specialTokens, ['<|endoftext|>', '<pad>']);
  const tokens = new Set(m.vocab);
  for (const [a, b] of m.merges) assert.ok(tokens.has(a) && tokens.has(b) && tokens.has(a + b), `merge ${a} ${b} uses unknown tokens`);

  // "ab ab ab": only a handful of merges exist at all.
  const small = trainBPE(['ab ab ab ab'], { vocabSize: 1000, minFrequency: 1 });
  assert.ok(small.vocab.length < 1000);
  assert.ok(small.vocab.includes('Ġab'));
  // A high minFrequency stops earlier.
  const strict = trainBPE(texts, { vocabSize: 5000, minFrequency: 50 });
  const loose = trainBPE(texts, { vocabSize: 5000, minFrequency: 2 });
  assert.ok(strict.merges.length < loose.merges.length);
});

test('frequent words become single tokens', () => {
  const texts = syntheticCorpus(2);
  const counts = countWords(texts);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([w]) => w);
  assert.ok(top.includes(' privacy') || top.includes(' the'), `unexpected top words ${JSON.stringify(top)}`);
  const m = trainBPE(texts, { vocabSize: 500 });
  for (const w of top) assert.ok(m.vocab.includes(toByteLevel(w)), `frequent word ${JSON.stringify(w)} is not a token`);
});

test('training is deterministic and independent of how the corpus is cut into texts at word boundaries', () => {
  const texts = syntheticCorpus(3);
  const a = trainBPE(texts, { vocabSize: 700 });
  const b = trainBPE(texts, { vocabSize: 700 });
  assert.deepEqual(a, b);
  // Same words, fed as one text: same counts, so the same merges.
  const c = trainBPE([texts.join('')], { vocabSize: 700 });
  assert.deepEqual(c.merges, a.merges);
  // A different corpus gives different merges (the test can fail).
  const d = trainBPE(syntheticCorpus(4), { vocabSize: 700 });
  assert.notDeepEqual(d.merges, a.merges);
});

test('special tokens are cut out of the training text and never spelt by a merge', () => {
  const doc = 'the cat sat. ';
  const texts = Array.from({ length: 50 }, () => `${doc}<|endoftext|>`);
  const m = trainBPE(texts, { vocabSize: 400, minFrequency: 1 });
  for (const t of m.vocab.slice(1)) assert.ok(!t.includes('<|'), `token ${JSON.stringify(t)} spans a special token`);
  // A special whose content is the byte-level spelling of a word (" world" is "Ġworld") could be built by merges; it must not be.
  const clash = trainBPE(Array(20).fill('say world world world'), { vocabSize: 400, minFrequency: 1, specialTokens: { eos: '<|endoftext|>', additional: ['Ġworld'] } });
  assert.equal(clash.vocab.indexOf('Ġworld'), 1);
  assert.equal(clash.vocab.lastIndexOf('Ġworld'), 1);
  assert.ok(!clash.merges.some(([a, b]) => a + b === 'Ġworld'));
  assert.ok(clash.merges.length > 5, 'training went on past the forbidden merge');
});

test('bad options are rejected with a clear error', () => {
  assert.throws(() => trainBPE(['x'], { vocabSize: 200 }), /vocabSize must be an integer >= 257/);
  assert.throws(() => trainBPE(['x'], { vocabSize: 300, minFrequency: 0 }), /minFrequency/);
  assert.throws(() => trainBPE(['x'], { vocabSize: 300, specialTokens: { eos: '' } }), /non-empty/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom, sampleBatch, tokenizeCorpus, tokensDigest, unigramEntropy, resolveSettings, settingsConflicts, modelConfigFor } from '../../src/pretrain/index.js';
import { liveTensors } from '../../src/torch/index.js';

test('SeededRandom: same seed, same stream; restoring the state continues it', () => {
  const a = new SeededRandom(42);
  const b = new SeededRandom(42);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(Array.from({ length: 5 }, () => b.next()), xs);
  const saved = a.state;
  const next = [a.next(), a.next()];
  const c = new SeededRandom(0);
  c.state = saved;
  assert.deepEqual([c.next(), c.next()], next);
  assert.notDeepEqual(Array.from({ length: 5 }, () => new SeededRandom(43).next()), xs);
  for (let i = 0; i < 1000; i++) {
    const k = a.int(7);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
  }
});

test('the token stream is each document followed by eos', () => {
  const enc = (t: string) => Array.from(t, (c) => c.charCodeAt(0));
  assert.deepEqual(Array.from(tokenizeCorpus(['ab', '', 'c'], enc, 0)), [97, 98, 0, 0, 99, 0]);
  assert.deepEqual(Array.from(tokenizeCorpus(['ab', 'c'], enc, null)), [97, 98, 99]);
  assert.equal(tokensDigest(Int32Array.from([1, 2, 3])), tokensDigest(Int32Array.from([1, 2, 3])));
  assert.notEqual(tokensDigest(Int32Array.from([1, 2, 3])), tokensDigest(Int32Array.from([1, 2, 4])));
});

test('unigram entropy in nats', () => {
  assert.ok(Math.abs(unigramEntropy(Int32Array.from([1, 2, 3, 4, 1, 2, 3, 4])) - Math.log(4)) < 1e-12);
  assert.equal(unigramEntropy(Int32Array.from([7, 7, 7])), 0);
  const p = [0.5, 0.25, 0.25];
  assert.ok(Math.abs(unigramEntropy(Int32Array.from([0, 0, 1, 2])) - -p.reduce((a, q) => a + q * Math.log(q), 0)) < 1e-12);
});

test('batches are windows of the stream with targets shifted by one', () => {
  const tokens = Int32Array.from({ length: 50 }, (_, i) => i);
  const before = liveTensors();
  const { inputs, targets } = sampleBatch(tokens, new SeededRandom(1), 4, 8);
  assert.deepEqual(inputs.shape, [4, 8]);
  assert.equal(inputs.dtype, 'int64');
  const x = inputs.toNumbers();
  const y = targets.toNumbers();
  for (let b = 0; b < 4; b++) {
    for (let i = 0; i < 8; i++) {
      assert.equal(y[b * 8 + i], x[b * 8 + i]! + 1);
      if (i) assert.equal(x[b * 8 + i], x[b * 8 + i - 1]! + 1);
    }
    assert.ok(x[b * 8]! + 8 <= 49);
  }
  inputs.dispose();
  targets.dispose();
  assert.equal(liveTensors(), before);
  // Every start position is reachable, the last one included.
  const starts = new Set<number>();
  const rng = new SeededRandom(3);
  for (let i = 0; i < 400; i++) {
    const bt = sampleBatch(Int32Array.from({ length: 12 }, (_, k) => k), rng, 1, 8);
    starts.add(bt.inputs.toNumbers()[0]!);
    bt.inputs.dispose();
    bt.targets.dispose();
  }
  assert.deepEqual([...starts].sort((a, b) => a - b), [0, 1, 2, 3]);
  assert.throws(() => sampleBatch(Int32Array.from([1, 2, 3]), rng, 1, 3), /needs 4/);
});

test('settings: defaults per family, validation, and what a resume may change', () => {
  const l = resolveSettings({});
  assert.equal(l.family, 'llama');
  assert.equal(l.ff, 352);
  assert.equal(l.kvHeads, 4);
  assert.equal(l.minLr, l.lr / 10);
  assert.equal(l.warmup, 100);
  assert.equal(resolveSettings({ family: 'gpt2', dModel: 64 }).ff, 256);
  assert.equal(resolveSettings({ steps: 50 }).warmup, 5);
  assert.throws(() => resolveSettings({ dModel: 130, heads: 4 }), /not divisible/);
  assert.throws(() => resolveSettings({ family: 'gpt2', kvHeads: 2 }), /grouped-query/);
  assert.throws(() => resolveSettings({ vocab: 100 }), /vocab must be an integer >= 258/);
  assert.deepEqual(settingsConflicts(l, { steps: 5000, checkpointEvery: 7, dModel: 128 }), []);
  assert.deepEqual(settingsConflicts(l, { dModel: 64, lr: 1e-3 }), ['dModel: checkpoint has 128, given 64']);
  const cfg = modelConfigFor(resolveSettings({ family: 'gpt2' }), { vocabSize: 999, bosTokenId: 0, eosTokenId: 0, padTokenId: 1 });
  assert.equal(cfg.vocabSize, 999);
  assert.equal(cfg.tieEmbeddings, true);
  assert.equal(cfg.activation, 'gelu_new');
  assert.equal(cfg.maxPositions, 128);
  assert.equal(cfg.padTokenId, 1);
});

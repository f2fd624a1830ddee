// The share of scored tokens that have a near-copy among the model's input embeddings: counted per
// occurrence, over a vocabulary wider than one block of compared rows, only for near-copies, without
// the separators, and against the tokens the tokenizer can emit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noGrad, tidy } from '../../src/torch/index.js';
import { randomModel, splitModel } from '../../src/models/index.js';
import { NearCopyMemo, nearCopyNote, nearCopyShare } from '../../src/experiments/index.js';

const config = {
  family: 'llama' as const, vocabSize: 600, dModel: 32, nLayers: 1, nHeads: 2, nKvHeads: 2, dFf: 64,
  maxPositions: 64, normEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true, activation: 'silu' as const, attentionBias: false,
  mlpBias: false, bosTokenId: 0, eosTokenId: 0, padTokenId: null,
};

test('nearCopyShare counts every occurrence of a token that has a near-copy, and nothing else', () => {
  const m = randomModel(config, 1);
  const { device } = splitModel(m, 1);
  try {
    // Token 550 becomes a scaled copy of token 7 (cosine 1: scale does not matter); tokens 9 and 420
    // become unit vectors at cosine 0.98 (axes 0 and 1 of the embedding space).
    noGrad(() => tidy(() => {
      const E = device.embeddingMatrix;
      E.select(0, 550).copy_(E.select(0, 7).mul(3));
      E.select(0, 9).fill_(0);
      E.select(0, 420).fill_(0);
      E.select(0, 9).select(0, 0).fill_(1);
      E.select(0, 420).select(0, 0).fill_(0.98);
      E.select(0, 420).select(0, 1).fill_(Math.sqrt(1 - 0.98 ** 2));
    }));
    const all = Array.from({ length: 600 }, (_, i) => i);
    // Every token once (three blocks of compared rows), token 7 twice more.
    const windows = [all.slice(0, 300), all.slice(300), [7, 7]];
    const share = nearCopyShare(device, windows);
    assert.equal(share, 4 / 602, 'tokens 7 (three times) and 550 are near-copies; 9 and 420 are not within 0.99');
    assert.equal(nearCopyShare(device, windows, { minCos: 0.97 }), 6 / 602, 'at 0.97 the pair at 0.98 counts too');
    assert.equal(nearCopyShare(device, windows, { skip: new Set([7]) }), 1 / 602, 'a skipped token (a separator) is not counted, but stays a near-copy of 550');
    assert.equal(nearCopyShare(device, windows, { unreachable: new Set([550]) }), 1 / 602, 'a token the tokenizer never emits is no near-copy: 7 has none left');
    assert.equal(nearCopyShare(device, [[1, 2, 3]]), 0);
    assert.equal(nearCopyShare(device, []), 0);
  } finally {
    m.dispose();
  }
});

test('NearCopyMemo gives nearCopyShare\'s answer and compares each token against the vocabulary once', () => {
  const m = randomModel(config, 2);
  const { device } = splitModel(m, 1);
  try {
    noGrad(() => tidy(() => { device.embeddingMatrix.select(0, 550).copy_(device.embeddingMatrix.select(0, 7)); }));
    const memo = new NearCopyMemo(device, { skip: new Set([0]) });
    const first = [[0, 7, 1, 2], [550, 3]];
    assert.equal(memo.share(first), nearCopyShare(device, first, { skip: new Set([0]) }));
    assert.equal(memo.share(first), 2 / 6);
    // Token 9 becomes a copy of token 1 after both were judged: the memo keeps 1's verdict, and
    // judges 9, met for the first time, against the embeddings as they are now.
    noGrad(() => tidy(() => { device.embeddingMatrix.select(0, 9).copy_(device.embeddingMatrix.select(0, 1)); }));
    assert.equal(memo.share([[1, 9, 0]]), 1 / 3, 'token 1 judged before the change, 9 after it; the separator 0 counts as a token without one');
    assert.equal(nearCopyShare(device, [[1, 9, 0]], { skip: new Set([0]) }), 2 / 3);
    assert.equal(memo.share([]), 0);
  } finally {
    m.dispose();
  }
});

test('nearCopyNote says nothing when no token (or an old result) has a near-copy', () => {
  assert.equal(nearCopyNote(0), '');
  assert.equal(nearCopyNote(undefined), '');
  assert.match(nearCopyNote(0.0636), /; 6\.4 % of its tokens have a near-copy in the model \(input-embedding cosine ≥ 0\.99\)/);
});

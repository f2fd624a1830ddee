// Finite-difference gradient checks of the neural-network functionals (F.*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, tensor, ids, tidy, F, grad } from '../../src/torch/index.js';
import { gradcheck, f64, awayFromZero } from './helpers.js';

const check = (fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], o = {}) => tidy(() => void gradcheck(fn, inputs, o));

test('linear with and without bias, cdist (p = 2 and 1)', () => {
  check((x, w, b) => F.linear(x, w, b), [f64([2, 3, 4], 1), f64([5, 4], 2), f64([5], 3)]);
  check((x, w) => F.linear(x, w), [f64([3, 4], 4), f64([2, 4], 5)]);
  // distinct points: the distance is not differentiable where it is zero
  check((a, b) => F.cdist(a, b), [f64([3, 2], 6), f64([4, 2], 7, 2, 3)]);
  check((a, b) => F.cdist(a, b, 1), [f64([2, 3, 2], 8), f64([2, 2, 2], 9, 2, 3)]);
});

test('softmax and logSoftmax over each dimension', () => {
  for (const dim of [0, 1, -1]) {
    check((x) => F.softmax(x, dim), [f64([3, 4], 10 + dim, -2, 2)]);
    check((x) => F.logSoftmax(x, dim), [f64([3, 4], 20 + dim, -2, 2)]);
  }
});

test('layerNorm (weight, bias, none) and rmsNorm (weight, none)', () => {
  check((x, w, b) => F.layerNorm(x, [4], w, b), [f64([2, 3, 4], 30), f64([4], 31, 0.5, 1.5), f64([4], 32)]);
  check((x) => F.layerNorm(x, [4]), [f64([3, 4], 33)]);
  check((x, w, b) => F.layerNorm(x, [2, 3], w, b), [f64([2, 2, 3], 34), f64([2, 3], 35, 0.5, 1.5), f64([2, 3], 36)]);
  check((x, w) => F.rmsNorm(x, w), [f64([2, 3, 4], 37), f64([4], 38, 0.5, 1.5)]);
  check((x) => F.rmsNorm(x, null, 1e-5), [f64([3, 4], 39)]);
});

test('activations: gelu (erf, tanh), silu, relu away from 0, sigmoid, tanh', () => {
  const x = () => f64([2, 5], 40, -3, 3);
  check((v) => F.gelu(v), [x()]);
  check((v) => F.gelu(v, 'tanh'), [x()]);
  check((v) => F.silu(v), [x()]);
  check((v) => F.relu(v), [tensor(awayFromZero(10, 41), [2, 5], { dtype: 'float64' })]);
  check((v) => F.sigmoid(v).add(F.tanh(v)), [x()]);
  check((v) => F.dropout(v, 0.5, false), [x()]); // eval mode: identity
});

test('embedding: repeated ids accumulate; the padding row gets no gradient', () => {
  check((w, i) => F.embedding(w, i), [f64([5, 3], 50), ids([[1, 4, 1], [0, 1, 2]])]);
  tidy(() => {
    const w = f64([5, 3], 51).requiresGrad_(true);
    const [g] = grad([F.embedding(w, ids([0, 2, 2, 4]), 2).sum()], [w]);
    const rows = g!.toNumbers();
    assert.deepEqual(rows.slice(6, 9), [0, 0, 0], 'padding row 2');
    assert.deepEqual(rows.slice(0, 3), [1, 1, 1]);
    assert.deepEqual(rows.slice(3, 6), [0, 0, 0], 'unused row');
  });
});

test('crossEntropy: plain, ignoreIndex, labelSmoothing, sum / none reductions; nllLoss', () => {
  const logits = () => f64([4, 5], 60, -2, 2);
  const target = ids([1, 0, 4, 2]);
  check((z, t) => F.crossEntropy(z, t), [logits(), target]);
  check((z, t) => F.crossEntropy(z, t, { ignoreIndex: 0 }), [logits(), target]);
  check((z, t) => F.crossEntropy(z, t, { labelSmoothing: 0.2 }), [logits(), target]);
  check((z, t) => F.crossEntropy(z, t, { labelSmoothing: 0.1, ignoreIndex: 4, reduction: 'sum' }), [logits(), target]);
  check((z, t) => F.crossEntropy(z, t, { reduction: 'none' }), [logits(), target]);
  // [N, C, T] layout (class dimension second), as torch
  check((z, t) => F.crossEntropy(z, t), [f64([2, 3, 4], 61), ids([[0, 1, 2, 1], [2, 2, 0, 1]])]);
  check((z, t) => F.nllLoss(F.logSoftmax(z), t, { ignoreIndex: 1 }), [logits(), target]);
});

test('mseLoss, cosineSimilarity, binaryCrossEntropyWithLogits', () => {
  check((a, b) => F.mseLoss(a, b), [f64([3, 4], 70), f64([3, 4], 71)]);
  check((a, b) => F.mseLoss(a, b, 'none'), [f64([2, 3], 72), f64([2, 3], 73)]);
  check((a, b) => F.cosineSimilarity(a, b), [f64([3, 4], 74), f64([3, 4], 75)]);
  check((a, b) => F.cosineSimilarity(a, b, 0), [f64([3, 4], 76), f64([3, 4], 77)]);
  check((z, y) => F.binaryCrossEntropyWithLogits(z, y), [f64([2, 3], 78, -3, 3), f64([2, 3], 79, 0, 1)]);
});

test('attention: plain, causal, bool mask, causal with a KV cache (Tk > Tq)', () => {
  const q = (s: number, t = 3) => f64([2, 2, t, 4], s);
  check((a, b, c) => F.attention(a, b, c), [q(80), q(81), q(82)]);
  check((a, b, c) => F.attention(a, b, c, { causal: true }), [q(83), q(84), q(85)]);
  // [B, 1, Tq, Tk]: broadcast over heads; combined with causal every query still sees a key
  const mask = tensor([true, false, true, true, true, false, false, true, true, true, true, true], [2, 1, 2, 3]);
  check((a, b, c, m) => F.attention(a, b, c, { mask: m }), [q(86, 2), q(87), q(88), mask]);
  check((a, b, c, m) => F.attention(a, b, c, { mask: m, causal: true }), [q(89, 2), q(90), q(91), mask]);
  check((a, b, c) => F.attention(a, b, c, { causal: true }), [q(92, 2), q(93, 5), q(94, 5)]);
});

test('attention: a fully masked query row gives zeros and finite (zero) gradients', () => {
  tidy(() => {
    const q = f64([1, 1, 2, 4], 100).requiresGrad_(true);
    const k = f64([1, 1, 3, 4], 101).requiresGrad_(true);
    const v = f64([1, 1, 3, 4], 102).requiresGrad_(true);
    const mask = tensor([true, false, true, false, false, false], [1, 1, 2, 3]); // query 1 sees nothing
    const out = F.attention(q, k, v, { mask });
    assert.deepEqual(out.select(2, 1).toNumbers(), [0, 0, 0, 0]);
    const gs = grad([out.mul(out).sum()], [q, k, v]);
    for (const g of gs) assert.ok(g!.toNumbers().every(Number.isFinite), 'gradient is finite');
    assert.deepEqual(gs[0]!.select(2, 1).toNumbers(), [0, 0, 0, 0], 'the masked query gets no gradient');
  });
  // and the same function passes the finite-difference check
  check((a, b, c, m) => F.attention(a, b, c, { mask: m }), [f64([1, 1, 2, 4], 103), f64([1, 1, 3, 4], 104), f64([1, 1, 3, 4], 105),
    tensor([true, false, true, false, false, false], [1, 1, 2, 3])]);
});

test('a composite: two-layer MLP with layer norm and cross-entropy, every parameter', () => {
  check(
    (x, w1, b1, w2, t) => F.crossEntropy(F.linear(F.gelu(F.layerNorm(F.linear(x, w1, b1), [6])), w2), t, { labelSmoothing: 0.1 }),
    [f64([3, 4], 110), f64([6, 4], 111), f64([6], 112), f64([5, 6], 113), ids([0, 3, 4])],
  );
});

test('the kink-avoiding inputs used above straddle zero and keep clear of it', () => {
  const xs = awayFromZero(50, 1);
  assert.ok(xs.some((x) => x < 0) && xs.some((x) => x > 0));
  assert.ok(xs.every((x) => Math.abs(x) >= 0.2));
});

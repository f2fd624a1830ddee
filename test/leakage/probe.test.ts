import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors, manualSeed, randn, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { pluginEntropy, probeBound } from '../../src/leakage/index.js';
import { mulberry32 } from '../../src/util/prng.js';

const CLASSES = 8;

/** X uniform over 8 classes (or the given ones), H = a · one-hot(X) + sigma · noise in 8 dims. */
function sample(n: number, sigma: number, seed: number, classes = [...Array(CLASSES).keys()]): { h: Tensor; x: Int32Array } {
  const rand = mulberry32(seed);
  const x = Int32Array.from({ length: n }, () => classes[Math.floor(rand() * classes.length)]!);
  manualSeed(seed);
  return tidy(() => {
    const onehot = new Float32Array(n * CLASSES);
    x.forEach((c, i) => (onehot[i * CLASSES + c] = 1));
    return { h: tensor(onehot, [n, CLASSES]).mul(3).add(randn([n, CLASSES]).mul(sigma)), x };
  });
}

/** Monte-Carlo I(X; H) for that model: H(X) − E[−log p(x | h)], p the exact Bayes posterior. */
function trueMi(sigma: number, seed: number): number {
  const { h, x } = sample(20000, sigma, seed);
  const v = h.toNumbers();
  h.dispose();
  let nll = 0;
  for (let i = 0; i < x.length; i++) {
    // log p(c | h) ∝ 3 h_c / σ² (the ‖h‖² and a² terms are equal for every class).
    const s = Array.from({ length: CLASSES }, (_, c) => (3 * v[i * CLASSES + c]!) / (sigma * sigma));
    const m = Math.max(...s);
    const lse = m + Math.log(s.reduce((a, b) => a + Math.exp(b - m), 0));
    nll += lse - s[x[i]!]!;
  }
  return Math.log(CLASSES) - nll / x.length;
}

test('probe bound: never above H(X), close to it when X is recoverable, ~0 when it is not', () => {
  const before = liveTensors();
  for (const [sigma, check] of [
    [0.05, (b: number, hx: number) => b >= 0.97 * hx],
    [1.5, null],
    [100, (b: number) => b < 0.05],
  ] as const) {
    const tr = sample(3000, sigma, 1);
    const te = sample(3000, sigma, 2);
    manualSeed(3);
    const r = probeBound(tr, te, { vocabSize: CLASSES, seed: 4 });
    tr.h.dispose();
    te.h.dispose();
    assert.ok(Math.abs(r.hX - pluginEntropy(te.x)) < 1e-12);
    assert.ok(Math.abs(r.hX - Math.log(CLASSES)) < 0.01, `H(X) of a uniform 8-class sample ≈ log 8, got ${r.hX}`);
    assert.ok(r.bound >= 0 && r.bound <= r.hX, `sigma=${sigma}: bound ${r.bound} outside [0, H(X)=${r.hX}]`);
    if (check) assert.ok(check(r.bound, r.hX), `sigma=${sigma}: bound ${r.bound}, H(X) ${r.hX}`);
  }
  assert.equal(liveTensors(), before, 'probe leaks no tensors');
});

test('probe bound is below (and near) the true I(X; H) at moderate noise', () => {
  // The Bayes posterior is a linear softmax here, so a linear probe can reach it: within 0.1 nats.
  const sigma = 2;
  const truth = trueMi(sigma, 11);
  const tr = sample(4000, sigma, 12);
  const te = sample(4000, sigma, 13);
  manualSeed(5);
  const r = probeBound(tr, te, { vocabSize: CLASSES, seed: 6 });
  tr.h.dispose();
  te.h.dispose();
  assert.ok(r.bound <= truth + 0.05, `bound ${r.bound.toFixed(3)} above the truth ${truth.toFixed(3)}`);
  assert.ok(r.bound >= truth - 0.1, `bound ${r.bound.toFixed(3)} far below the truth ${truth.toFixed(3)}`);
});

test('probe bound stays finite and within [0, H(X)] when held-out tokens were never seen in training', () => {
  const tr = sample(1500, 0.3, 21, [0, 1, 2, 3, 4, 5]);
  const te = sample(1500, 0.3, 22);
  manualSeed(7);
  const r = probeBound(tr, te, { vocabSize: 50, seed: 8, hidden: 16 });
  tr.h.dispose();
  te.h.dispose();
  assert.equal(r.classes, 6);
  assert.ok(Number.isFinite(r.ce), `ce ${r.ce}`);
  assert.ok(r.alpha > 0);
  assert.ok(r.bound >= 0 && r.bound <= r.hX, `bound ${r.bound}, H(X) ${r.hX}`);
});

test('pluginEntropy', () => {
  assert.equal(pluginEntropy([3, 3, 3]), 0);
  assert.ok(Math.abs(pluginEntropy([1, 2, 3, 4]) - Math.log(4)) < 1e-12);
  assert.ok(Math.abs(pluginEntropy([1, 1, 2, 2, 2, 2]) - (-(1 / 3) * Math.log(1 / 3) - (2 / 3) * Math.log(2 / 3))) < 1e-12);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors, manualSeed, rand, randn, tensor, tidy, zeros } from '../../src/torch/index.js';
import { effectiveRank, excessKurtosis, klEntropy, sparsity, SPARSITY_TAU } from '../../src/leakage/index.js';

const gaussianEntropy = (variances: number[]) =>
  0.5 * variances.length * Math.log(2 * Math.PI * Math.E) + 0.5 * variances.reduce((a, v) => a + Math.log(v), 0);

// Stated tolerances: 0.05 nats in 1-D, 0.1 nats in 3-D (N = 4000, k = 3).
test('Kozachenko–Leonenko entropy of Gaussians vs the closed form', () => {
  const before = liveTensors();
  tidy(() => {
    manualSeed(1);
    const one = randn([4000, 1]).mul(2);
    const h1 = klEntropy(one);
    assert.ok(Math.abs(h1 - gaussianEntropy([4])) < 0.05, `1-D: ${h1} vs ${gaussianEntropy([4])}`);
    const sd = tensor([1, 2, 0.5]);
    const three = randn([4000, 3]).mul(sd);
    const h3 = klEntropy(three);
    assert.ok(Math.abs(h3 - gaussianEntropy([1, 4, 0.25])) < 0.1, `3-D: ${h3} vs ${gaussianEntropy([1, 4, 0.25])}`);
    // Scaling by c adds d·log c.
    assert.ok(Math.abs(klEntropy(three.mul(3)) - (h3 + 3 * Math.log(3))) < 1e-4);
  });
  assert.equal(liveTensors(), before);
});

test('effective rank of known matrices', () => {
  tidy(() => {
    // r equal singular values → exactly r.
    for (const r of [1, 3, 5]) {
      const m = new Float32Array(20 * 8);
      for (let i = 0; i < r; i++) m[i * 8 + i] = 5;
      assert.ok(Math.abs(effectiveRank(tensor(m, [20, 8]), { center: false }) - r) < 1e-6, `rank ${r}`);
    }
    // Singular values 3 and 1: p = (0.75, 0.25).
    const m = new Float32Array(6 * 4);
    m[0] = 3;
    m[4 + 1] = 1;
    const expected = Math.exp(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)));
    assert.ok(Math.abs(effectiveRank(tensor(m, [6, 4]), { center: false }) - expected) < 1e-6);
    // A random rank-3 product (centred): between 1 and 3.
    manualSeed(2);
    const low = randn([200, 3]).mm(randn([3, 16]));
    const e = effectiveRank(low);
    assert.ok(e > 1.5 && e <= 3 + 1e-6, `rank-3 product: ${e}`);
    assert.equal(effectiveRank(zeros([4, 4])), 0);
  });
});

test('sparsity of known vectors', () => {
  tidy(() => {
    // RMS = √5 → threshold 0.0224: the two ±5 and the 0.05 count as non-zero, the 1e-4 and zeros as near zero.
    const v = tensor([0, 0, 5, 1e-4, 0, 0, -5, 0.05, 0, 0], [1, 10]);
    assert.equal(sparsity(v), 0.7);
    assert.equal(sparsity(v, 1e-5), 0.6, 'smaller τ: only exact zeros');
    // Dense Gaussian rows: ≈ erf(τ/√2) ≈ 0.008.
    manualSeed(3);
    const g = sparsity(randn([2000, 64]));
    assert.ok(Math.abs(g - 0.008) < 0.002, `gaussian: ${g}`);
    assert.equal(SPARSITY_TAU, 0.01);
  });
});

test('excess kurtosis', () => {
  tidy(() => {
    assert.ok(Math.abs(excessKurtosis(tensor([1, -1, 1, -1])) - -2) < 1e-12);
    manualSeed(4);
    assert.ok(Math.abs(excessKurtosis(randn([400, 500]))) < 0.05, 'gaussian ≈ 0');
    assert.ok(Math.abs(excessKurtosis(rand([400, 500])) - -1.2) < 0.05, 'uniform ≈ −1.2');
    // One outlier dimension makes the pooled kurtosis large.
    const outlier = randn([1000, 32]).add(tensor(Float32Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))).mul(randn([1000, 1]).mul(30)));
    assert.ok(excessKurtosis(outlier) > 10);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors, manualSeed, randn, tensor, tidy } from '../../src/torch/index.js';
import { fitPca } from '../../src/leakage/index.js';

test('pca recovers the variances of an axis-aligned Gaussian and whitens held-out data', () => {
  const before = liveTensors();
  tidy(() => {
    manualSeed(1);
    const sd = tensor([0.5, 3, 1, 2]);
    const fitData = randn([20000, 4]).mul(sd).add(tensor([1, 2, 3, 4]));
    const pca = fitPca(fitData, { components: 3 });
    try {
      const ev = pca.explainedVariance;
      [9, 4, 1].forEach((v, i) => assert.ok(Math.abs(ev[i]! - v) / v < 0.05, `component ${i}: ${ev[i]} vs ${v}`));
      assert.ok(Math.abs(pca.keptVarianceRatio - 14 / 14.25) < 0.01);
      assert.ok(Math.abs(pca.explainedVarianceRatio[0]! - 9 / 14.25) < 0.01);
      // Axes: e_2, e_4, e_3 with positive sign.
      const axes = pca.axes.toNumbers();
      assert.ok(axes[1 * 3 + 0]! > 0.99 && axes[3 * 3 + 1]! > 0.99 && axes[2 * 3 + 2]! > 0.99);
      const held = randn([5000, 4]).mul(sd).add(tensor([1, 2, 3, 4]));
      const z = pca.transform(held, { whiten: true });
      assert.deepEqual(z.shape, [5000, 3]);
      for (const v of z.var(0).toNumbers()) assert.ok(Math.abs(v - 1) < 0.06, `whitened variance ${v}`);
      for (const m of z.mean(0).toNumbers()) assert.ok(Math.abs(m) < 0.06, `whitened mean ${m}`);
      const raw = pca.transform(held);
      assert.ok(Math.abs(raw.var(0).toNumbers()[0]! - 9) < 0.5);
    } finally {
      pca.dispose();
    }
  });
  assert.equal(liveTensors(), before);
});

test('pca with more dimensions than rows (SVD path) and component cap', () => {
  tidy(() => {
    manualSeed(2);
    const x = randn([10, 40]);
    const pca = fitPca(x, { components: 50 });
    try {
      assert.equal(pca.explainedVariance.length, 9, 'capped at N − 1');
      assert.ok(Math.abs(pca.keptVarianceRatio - 1) < 1e-9, 'N − 1 components keep all the variance of N points');
      for (let i = 1; i < 9; i++) assert.ok(pca.explainedVariance[i]! <= pca.explainedVariance[i - 1]! + 1e-12);
    } finally {
      pca.dispose();
    }
  });
});

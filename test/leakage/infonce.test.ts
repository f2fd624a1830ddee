import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors, manualSeed, randn, tidy } from '../../src/torch/index.js';
import { infoNceBound } from '../../src/leakage/index.js';
import { correlatedGaussians } from './helpers.js';

// Stated tolerance: InfoNCE is a lower bound, so the held-out value may exceed the truth only by
// sampling noise (+0.1 nats) and, with these budgets (B = 128, 600 steps, truth ≤ 1.7 nats, far
// below log B = 4.85), lands within 0.3 nats below it.
const CASES = [
  { d: 2, rho: 0.8 }, // I = 1.02 nats
  { d: 4, rho: 0.75 }, // I = 1.65 nats
];
for (const c of CASES) {
  test(`infonce bound on correlated Gaussians d=${c.d} rho=${c.rho} is a tight lower bound`, () => {
    const before = liveTensors();
    const tr = correlatedGaussians(6000, c.d, c.rho, 100 + c.d);
    const te = correlatedGaussians(4096, c.d, c.rho, 200 + c.d);
    manualSeed(7);
    const r = infoNceBound({ x: tr.x, y: tr.y }, { x: te.x, y: te.y }, { batchSize: 128, steps: 600, lr: 2e-3, hidden: 64 });
    for (const t of [tr.x, tr.y, te.x, te.y]) t.dispose();
    assert.ok(r.bound <= r.logB + 1e-9, 'never above log B');
    assert.ok(r.bound <= tr.mi + 0.1, `bound ${r.bound.toFixed(3)} above the truth ${tr.mi.toFixed(3)}`);
    assert.ok(r.bound >= tr.mi - 0.3, `bound ${r.bound.toFixed(3)} far below the truth ${tr.mi.toFixed(3)}`);
    assert.equal(r.batches, 32);
    assert.equal(liveTensors(), before, 'infonce leaks no tensors');
  });
}

test('infonce saturates at log B when the truth is above it', () => {
  // d = 8, rho = 0.99: I = 15.6 nats ≫ log 16 = 2.77.
  const tr = correlatedGaussians(3000, 8, 0.99, 5);
  const te = correlatedGaussians(1024, 8, 0.99, 6);
  manualSeed(8);
  const r = infoNceBound({ x: tr.x, y: tr.y }, { x: te.x, y: te.y }, { batchSize: 16, steps: 300, lr: 2e-3, hidden: 64 });
  for (const t of [tr.x, tr.y, te.x, te.y]) t.dispose();
  assert.ok(Math.abs(r.logB - Math.log(16)) < 1e-12);
  assert.ok(r.bound <= r.logB + 1e-9 && r.bound > r.logB - 0.3, `bound ${r.bound} vs log B ${r.logB}`);
});

test('infonce is near 0 for independent variables', () => {
  tidy(() => {
    manualSeed(9);
    const r = infoNceBound({ x: randn([3000, 3]), y: randn([3000, 3]) }, { x: randn([2048, 3]), y: randn([2048, 3]) }, { steps: 300 });
    assert.ok(Math.abs(r.raw) < 0.1, `independent: ${r.raw}`);
    assert.equal(r.bound, Math.max(0, r.raw), 'the reported bound is clamped at 0 (I ≥ 0)');
    // A tiny training set: early stopping ends training well before the step budget.
    const small = infoNceBound({ x: randn([200, 3]), y: randn([200, 3]) }, { x: randn([512, 3]), y: randn([512, 3]) }, { steps: 5000, evalEvery: 20 });
    assert.ok(small.steps < 5000, `stopped after ${small.steps} steps`);
    assert.ok(small.bound >= 0 && small.raw < 0.1);
  });
});

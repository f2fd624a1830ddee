import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classicGaussianEpsilon, analyticGaussianEpsilon, analyticGaussianDelta } from '../../src/defenses/index.js';
import { normalCdf } from '../../src/defenses/normal.js';

test('normal CDF at textbook points', () => {
  assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-7);
  assert.ok(Math.abs(normalCdf(1.959963985) - 0.975) < 1e-6);
  assert.ok(Math.abs(normalCdf(-1) - 0.158655254) < 1e-6);
});

test('classic Gaussian mechanism: σ = Δ√(2 ln(1.25/δ))/ε inverted', () => {
  // Δ = 1, δ = 1e-5, ε = 0.5 → σ = √(2 ln 125000)/0.5 = 9.6896…
  const sigma = Math.sqrt(2 * Math.log(1.25e5)) / 0.5;
  assert.ok(Math.abs(sigma - 9.68959) < 1e-4);
  assert.ok(Math.abs(classicGaussianEpsilon(1, sigma, 1e-5) - 0.5) < 1e-12);
});

test('analytic Gaussian mechanism: δ(ε) hits the target and is tighter than the classic bound', () => {
  for (const [sens, sigma] of [[1, 5], [2, 3], [1, 20]] as const) {
    const eps = analyticGaussianEpsilon(sens, sigma, 1e-5);
    assert.ok(Math.abs(analyticGaussianDelta(sens, sigma, eps) - 1e-5) < 1e-8, `δ at ε=${eps}`);
    const classic = classicGaussianEpsilon(sens, sigma, 1e-5);
    if (classic < 1) assert.ok(eps <= classic, `analytic ${eps} > classic ${classic}`);
  }
  assert.equal(analyticGaussianEpsilon(1, 0, 1e-5), Infinity);
});

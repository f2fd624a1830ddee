import { normalCdf } from './normal.js';

/**
 * ε of the classic Gaussian mechanism (Dwork & Roth 2014, Thm A.1): σ ≥ Δ·√(2 ln(1.25/δ))/ε.
 * Only valid for ε < 1; returns the formula's value regardless (callers check).
 */
export function classicGaussianEpsilon(sensitivity: number, sigma: number, delta: number): number {
  return (sensitivity * Math.sqrt(2 * Math.log(1.25 / delta))) / sigma;
}

/** δ(ε) of the Gaussian mechanism, exact (Balle & Wang 2018, Thm 8). */
export function analyticGaussianDelta(sensitivity: number, sigma: number, epsilon: number): number {
  const a = sensitivity / (2 * sigma);
  const b = (epsilon * sigma) / sensitivity;
  return normalCdf(a - b) - Math.exp(epsilon) * normalCdf(-a - b);
}

/** The smallest ε with δ(ε) ≤ delta for the Gaussian mechanism (analytic, valid for every ε). */
export function analyticGaussianEpsilon(sensitivity: number, sigma: number, delta: number): number {
  if (sigma <= 0) return Infinity;
  if (analyticGaussianDelta(sensitivity, sigma, 0) <= delta) return 0;
  let lo = 0;
  let hi = 1;
  while (analyticGaussianDelta(sensitivity, sigma, hi) > delta) {
    hi *= 2;
    if (hi > 1e6) return Infinity;
  }
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (analyticGaussianDelta(sensitivity, sigma, mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors, randn, manualSeed, tensor, tidy } from '../../src/torch/index.js';
import { chebyshev, chebyshevBroadcast, digamma, ksgMutualInformation } from '../../src/leakage/index.js';
import { correlatedGaussians } from './helpers.js';

/** Literal algorithm 1 of Kraskov et al. on host arrays (O(N²), small N only). */
function bruteKsg(x: number[][], y: number[][], k: number): number {
  const n = x.length;
  const cheb = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const joint: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i) joint.push(Math.max(cheb(x[i]!, x[j]!), cheb(y[i]!, y[j]!)));
    joint.sort((a, b) => a - b);
    const eps = joint[k - 1]!;
    let nx = 0;
    let ny = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      if (cheb(x[i]!, x[j]!) < eps) nx++;
      if (cheb(y[i]!, y[j]!) < eps) ny++;
    }
    acc += digamma(nx + 1) + digamma(ny + 1);
  }
  return digamma(k) + digamma(n) - acc / n;
}

const rowsOf = (t: { toNumbers(): number[]; shape: number[] }) => {
  const v = t.toNumbers();
  const d = t.shape[1]!;
  return Array.from({ length: t.shape[0]! }, (_, i) => v.slice(i * d, (i + 1) * d));
};

test('chebyshev (cdist p=inf) equals the broadcasting reference', () => {
  tidy(() => {
    manualSeed(1);
    const a = randn([37, 5]);
    const b = randn([53, 5]);
    assert.ok(chebyshev(a, b).allclose(chebyshevBroadcast(a, b, 1000), 1e-6, 1e-6));
  });
});

test('ksg matches a literal implementation of algorithm 1 (several k, block sizes)', () => {
  const before = liveTensors();
  const g = correlatedGaussians(150, 2, 0.7, 3);
  const xs = rowsOf(g.x);
  const ys = rowsOf(g.y);
  for (const k of [1, 3, 5]) {
    const ref = bruteKsg(xs, ys, k);
    for (const blockElements of [150 * 7, 1 << 23]) {
      const r = ksgMutualInformation(g.x, g.y, { k, blockElements });
      assert.ok(Math.abs(r.mi - ref) < 1e-9, `k=${k} block=${blockElements}: ${r.mi} vs literal ${ref}`);
    }
  }
  g.x.dispose();
  g.y.dispose();
  assert.equal(liveTensors(), before, 'ksg leaks no tensors');
});

// Stated tolerances (KSG, k = 3). KSG is biased DOWNWARD in higher dimension (its k-NN balls are
// not small there), so the band allows an underestimate that grows with the dimension d of each
// side: 10% (d = 1), 15% (d = 2), 25% (d = 4), 50% (d = 8) of the truth, plus 0.05 nats; it may
// exceed the truth by at most 0.05 nats (sampling noise).
const UNDER: Record<number, number> = { 1: 0.1, 2: 0.15, 4: 0.25, 8: 0.5 };
const CASES = [
  { d: 1, rho: 0.6, n: 2000 },
  { d: 1, rho: 0.9, n: 2000 },
  { d: 2, rho: 0.6, n: 3000 },
  { d: 4, rho: 0.5, n: 3000 },
  { d: 4, rho: 0.8, n: 3000 },
  { d: 8, rho: 0.4, n: 3000 },
];
for (const c of CASES) {
  test(`ksg on correlated Gaussians d=${c.d} rho=${c.rho} lands within the stated band`, () => {
    const g = correlatedGaussians(c.n, c.d, c.rho, 10 + c.d);
    try {
      const { mi } = ksgMutualInformation(g.x, g.y);
      const lo = g.mi * (1 - UNDER[c.d]!) - 0.05;
      const hi = g.mi + 0.05;
      assert.ok(mi >= lo && mi <= hi, `KSG ${mi.toFixed(4)} vs truth ${g.mi.toFixed(4)} (band [${lo.toFixed(3)}, ${hi.toFixed(3)}])`);
    } finally {
      g.x.dispose();
      g.y.dispose();
    }
  });
}

test('ksg\'s high-dimensional underestimate shrinks as N grows (consistency)', () => {
  const est = [1000, 8000].map((n) => {
    const g = correlatedGaussians(n, 8, 0.5, 77);
    try {
      return { mi: ksgMutualInformation(g.x, g.y).mi, truth: g.mi };
    } finally {
      g.x.dispose();
      g.y.dispose();
    }
  });
  assert.ok(est[0]!.mi < est[1]!.mi && est[1]!.mi < est[1]!.truth, `N=1000: ${est[0]!.mi}, N=8000: ${est[1]!.mi}, truth ${est[1]!.truth}`);
});

test('ksg is near 0 for independent variables, and handles duplicate points', () => {
  tidy(() => {
    manualSeed(4);
    const x = randn([2000, 3]);
    const y = randn([2000, 3]);
    const { mi } = ksgMutualInformation(x, y);
    assert.ok(Math.abs(mi) < 0.05, `independent: ${mi}`);
    // All-identical rows: every ε is 0, counts are 0, the estimate stays finite.
    const same = tensor(new Float32Array(40).fill(1), [20, 2]);
    assert.ok(Number.isFinite(ksgMutualInformation(same, same).mi));
  });
});

test('ksg rejects bad shapes and k', () => {
  tidy(() => {
    const x = randn([10, 2]);
    assert.throws(() => ksgMutualInformation(x, randn([9, 2])), /rows/);
    assert.throws(() => ksgMutualInformation(x, x, { k: 10 }), /k < N/);
  });
});

test('digamma matches known values', () => {
  assert.ok(Math.abs(digamma(1) + 0.5772156649015329) < 1e-12);
  assert.ok(Math.abs(digamma(0.5) - (-0.5772156649015329 - 2 * Math.LN2)) < 1e-12);
  assert.ok(Math.abs(digamma(10) - 2.251752589066721) < 1e-12);
  assert.ok(Math.abs(digamma(20001) - (digamma(20000) + 1 / 20000)) < 1e-12);
});

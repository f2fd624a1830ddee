import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, tensor, tidy, manualSeed, liveTensors, ones, cat } from '../../src/torch/index.js';
import {
  GaussianDefense, DChiDefense, TopKDefense, DimDropoutDefense, QuantizeDefense, NoPeekDefense,
  createDefense, DEFENSE_NAMES, distanceCorrelation,
} from '../../src/defenses/index.js';

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} not within ${tol} of ${b}`);

test('a level of 0 is the identity for every activation/embedding defense', () => {
  tidy(() => {
    manualSeed(1);
    const x = randn([2, 5, 16]);
    for (const name of DEFENSE_NAMES) {
      const d = createDefense({ name, level: 0, seed: 3 });
      const y = d.apply(x);
      assert.ok(y.allclose(x, 0, 0), `${name} level 0 changed the input`);
      assert.notEqual(y, x, `${name} must return a new tensor`);
    }
  });
});

test('gaussian: added noise has σ = level·RMS and vectors are clipped to C', () => {
  tidy(() => {
    manualSeed(2);
    const x = randn([64, 32, 64]).mul(3);
    const rms = x.square().mean().sqrt().item();
    const d = new GaussianDefense({ level: 0.5, clipFactor: 10, seed: 7 });
    const y = d.apply(x);
    close(d.rms!, rms, 1e-4 * rms, 'calibrated RMS');
    // clipFactor 10 leaves every vector unclipped, so y − x is the noise alone.
    const noise = y.sub(x);
    close(noise.std().item(), 0.5 * rms, 0.01 * rms, 'noise std');
    close(noise.mean().item(), 0, 0.01 * rms, 'noise mean');

    const tight = new GaussianDefense({ level: 0, clipFactor: 0.5, rms, seed: 1 });
    assert.ok(tight.apply(x).allclose(x, 0, 0), 'level 0 sends the clean activations');
    const clipped = new GaussianDefense({ level: 1e-9, clipFactor: 0.5, rms, seed: 1 }).apply(x);
    const maxNorm = clipped.norm(2, -1).max().item();
    assert.ok(maxNorm <= 0.5 * Math.sqrt(64) * rms * 1.0001, `clipped norm ${maxNorm}`);
  });
});

test('gaussian: deterministic under a seed, different across seeds', () => {
  tidy(() => {
    const x = randn([4, 8, 16]);
    const a = new GaussianDefense({ level: 1, seed: 5 }).apply(x);
    const b = new GaussianDefense({ level: 1, seed: 5 }).apply(x);
    const c = new GaussianDefense({ level: 1, seed: 6 }).apply(x);
    assert.ok(a.allclose(b, 0, 0));
    assert.ok(!a.allclose(c, 1e-3, 1e-3));
  });
});

test('gaussian: ε reported from the analytic mechanism and grows as σ shrinks', () => {
  tidy(() => {
    const x = randn([8, 8, 16]);
    const eps = [0.5, 1, 2, 4].map((level) => {
      const d = new GaussianDefense({ level, seed: 1, rms: 1 });
      d.apply(x);
      const p = d.privacy()!;
      assert.equal(p.delta, 1e-5);
      return p.epsilon;
    });
    for (let i = 1; i < eps.length; i++) assert.ok(eps[i]! < eps[i - 1]!, `ε not decreasing with noise: ${eps}`);
  });
});

test('dchi: noise radius follows Gamma(D, 1/η) and snap returns token embeddings', () => {
  tidy(() => {
    const x = randn([1, 2000, 16]);
    const level = 0.25;
    const y = new DChiDefense({ level, seed: 9 }).apply(x);
    const r = y.sub(x).norm(2, -1);
    // E[r] = D/η = D·level, Var[r] = D·level².
    close(r.mean().item(), 16 * level, 0.05 * 16 * level, 'mean radius');
    close(r.var().item(), 16 * level * level, 0.15 * 16 * level * level, 'radius variance');

    const e = randn([50, 16]);
    const ids = tensor([3, 7, 7, 49], [4], { dtype: 'int64' });
    const emb = e.indexSelect(0, ids).unsqueeze(0);
    const snapped = new DChiDefense({ level: 0.001, snap: true, seed: 1 }).apply(emb, { embeddingMatrix: e });
    assert.ok(snapped.allclose(emb, 1e-6, 1e-6), 'tiny noise snaps back to the same tokens');
    assert.throws(() => new DChiDefense({ level: 1, snap: true }).apply(emb), /embedding matrix/);
  });
});

test('topk keeps exactly k components per token, the largest in magnitude', () => {
  tidy(() => {
    const x = tensor([0.1, -5, 2, 0.3, -0.2, 4, 1, -3], [1, 1, 8]);
    const y = new TopKDefense(0.5).apply(x);
    assert.deepEqual(y.toNumbers(), [0, -5, 2, 0, 0, 4, 0, -3]);
    const big = randn([4, 10, 100]);
    const z = new TopKDefense(0.9).apply(big);
    assert.equal(z.ne(0).sum().item(), 4 * 10 * 10);
  });
});

test('dimension dropout: zero fraction ≈ p, survivors rescaled, seeded', () => {
  tidy(() => {
    const x = ones([100, 100]);
    const y = new DimDropoutDefense(0.3, 4).apply(x);
    close(y.eq(0).float().mean().item(), 0.3, 0.02, 'zero fraction');
    close(y.max().item(), 1 / 0.7, 1e-5, 'rescale');
    assert.ok(new DimDropoutDefense(0.3, 4).apply(x).allclose(y, 0, 0));
  });
});

test('quantisation error is at most half a step, and int4 has at most 15 levels per token', () => {
  tidy(() => {
    const x = randn([16, 64]);
    for (const bits of [8, 4]) {
      const q = new QuantizeDefense(bits);
      const y = q.apply(x);
      const step = x.abs().amax(-1, true).div(q.qmax);
      const err = y.sub(x).abs().div(step).max().item();
      assert.ok(err <= 0.5 + 1e-4, `int${bits} error ${err} steps`);
      const codes = new Set(y.div(step).round().toNumbers().slice(0, 64));
      assert.ok(codes.size <= 2 * q.qmax + 1);
    }
    assert.throws(() => new QuantizeDefense(3.5), /bit width/);
  });
});

test('distance correlation: ≈1 for a linear map, small for independent data; NoPeek scales by level', () => {
  tidy(() => {
    manualSeed(3);
    const x = randn([200, 8]);
    const lin = distanceCorrelation(x, x.mul(2).add(1)).item();
    close(lin, 1, 1e-4, 'dCor of a similarity transform');
    // The sample (V-statistic) dCor is biased upwards for finite n (≈0.37 at n=200, p=8), shrinking with n.
    const indep200 = distanceCorrelation(x, randn([200, 8])).item();
    const x2 = randn([2000, 8]);
    const indep2000 = distanceCorrelation(x2, randn([2000, 8])).item();
    assert.ok(indep200 < 0.5 && indep2000 < indep200, `dCor of independent samples ${indep200}, ${indep2000}`);
    const e = randn([2, 10, 8]);
    const h = cat([e, e], -1);
    const p = new NoPeekDefense(0.7).trainingLoss(e, h).item();
    close(p, 0.7, 1e-3, 'penalty for perfectly correlated activations');
  });
});

test('nopeek penalty is differentiable with respect to the activations', () => {
  const before = liveTensors();
  tidy(() => {
    const e = randn([1, 12, 4]);
    const h = randn([1, 12, 6]).requiresGrad_();
    new NoPeekDefense(1).trainingLoss(e, h).backward();
    const g = h.grad!;
    assert.ok(g.abs().sum().item() > 0);
  });
  assert.equal(liveTensors(), before);
});

test('bad levels are rejected with a message naming the level', () => {
  assert.throws(() => createDefense({ name: 'topk', level: 1.5 }), /topk level/);
  assert.throws(() => createDefense({ name: 'gaussian', level: -1 }), /gaussian level/);
});

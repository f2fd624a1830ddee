// Elementwise math, comparisons, reductions and linear algebra against hand-computed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, ids, einsum, outer, svd, eigh, slogdet, tidy, multinomial, manualSeed } from '../../src/torch/index.js';
import { assertAllClose, assertClose } from './helpers.js';

test('elementwise arithmetic and unary functions', () => {
  tidy(() => {
    const x = tensor([1, 4, 9]);
    assertAllClose(x.add(1).sub(tensor([1, 1, 1])).mul(2).div(4), [0.5, 2, 4.5]);
    assertAllClose(x.sqrt(), [1, 2, 3]);
    assertAllClose(x.rsqrt(), [1, 0.5, 1 / 3]);
    assertAllClose(x.log(), [0, Math.log(4), Math.log(9)]);
    assertAllClose(tensor([0, 1]).exp(), [1, Math.E]);
    assertAllClose(tensor([-2, 2]).abs(), [2, 2]);
    assertAllClose(tensor([0]).sigmoid(), [0.5]);
    assertAllClose(tensor([0.5]).tanh(), [Math.tanh(0.5)]);
    assertAllClose(x.pow(0.5), [1, 2, 3]);
    assertAllClose(tensor([2]).pow(tensor([10])), [1024]);
    assertAllClose(x.rsub(10), [9, 6, 1]);
    assertAllClose(x.reciprocal(), [1, 0.25, 1 / 9]);
    assertAllClose(tensor([1e-10]).log1p(), [1e-10], { rtol: 1e-4, atol: 0 });
    assertAllClose(tensor([1e-10]).expm1(), [1e-10], { rtol: 1e-4, atol: 0 });
    assertAllClose(tensor([1]).erf(), [0.8427007929497149]);
    assertAllClose(tensor([5]).lgamma(), [Math.log(24)]);
    assertAllClose(tensor([1]).digamma(), [-0.5772156649015329]);
    assertAllClose(tensor([-1.5, 1.5]).sign(), [-1, 1]);
    // round half to even, floor, ceil; Python-style remainder keeps the divisor's sign
    assertAllClose(tensor([0.5, 1.5, 2.5, -0.5]).round(), [0, 2, 2, -0]);
    assertAllClose(tensor([-1.5, 1.5]).floor(), [-2, 1]);
    assertAllClose(tensor([-1.5, 1.5]).ceil(), [-1, 2]);
    assertAllClose(tensor([-3, 3, 5.5]).remainder(2), [1, 1, 1.5]);
    assertAllClose(tensor([-3, 0.5, 3]).clamp(-1, 1), [-1, 0.5, 1]);
    assertAllClose(tensor([1, 5]).maximum(tensor([3, 2])), [3, 5]);
    assertAllClose(tensor([1, 5]).minimum(3), [1, 3]);
    // integer division is true division, as torch.div
    assertAllClose(ids([7, -7]).div(2), [3.5, -3.5]);
  });
});

test('comparisons and logic give bool tensors; isnan / isfinite', () => {
  tidy(() => {
    const a = tensor([1, 2, 3]);
    for (const [r, e] of [[a.eq(2), [0, 1, 0]], [a.ne(2), [1, 0, 1]], [a.lt(2), [1, 0, 0]], [a.le(2), [1, 1, 0]],
      [a.gt(2), [0, 0, 1]], [a.ge(tensor([3, 2, 1])), [0, 1, 1]]] as const) {
      assert.equal(r.dtype, 'bool');
      assert.deepEqual(r.toNumbers(), e);
    }
    const p = tensor([true, true, false]), q = tensor([true, false, false]);
    assert.deepEqual(p.logicalAnd(q).toNumbers(), [1, 0, 0]);
    assert.deepEqual(p.logicalOr(q).toNumbers(), [1, 1, 0]);
    assert.equal(p.any().item(), 1);
    assert.equal(p.all().item(), 0);
    const n = tensor([NaN, Infinity, 1]);
    assert.deepEqual(n.isnan().toNumbers(), [1, 0, 0]);
    assert.deepEqual(n.isfinite().toNumbers(), [0, 0, 1]);
    assert.ok(tensor([1, 2]).allclose(tensor([1, 2.000001])));
    assert.ok(!tensor([1, 2]).allclose(tensor([1, 2.1])));
  });
});

test('reductions: sum, mean, prod, var (corrections), std, cumsum over dims', () => {
  tidy(() => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.equal(x.sum().item(), 21);
    assert.deepEqual(x.sum(0).toNumbers(), [5, 7, 9]);
    assert.deepEqual(x.sum(1, true).shape, [2, 1]);
    assert.deepEqual(x.sum([0, 1]).toNumbers(), [21]);
    assertAllClose(x.mean(1), [2, 5]);
    assert.equal(x.prod().item(), 720);
    assert.deepEqual(x.prod(1).toNumbers(), [6, 120]);
    // [1..6]: mean 3.5, sum of squared deviations 17.5
    assertClose(x.var().item(), 17.5 / 5);
    assertClose(x.var(undefined, 0).item(), 17.5 / 6);
    assertClose(x.std().item(), Math.sqrt(3.5));
    assertAllClose(x.var(1), [1, 1]);
    assert.deepEqual(x.cumsum(1).toNumbers(), [1, 3, 6, 4, 9, 15]);
    assert.equal(ids([1, 2]).sum().dtype, 'int64');
  });
});

test('max / min / argmax / argmin / amax / topk / sort', () => {
  tidy(() => {
    const x = tensor([3, 9, 1, 7, 2, 8], [2, 3]);
    assert.equal(x.max().item(), 9);
    assert.equal(x.min().item(), 1);
    const [v, i] = x.maxDim(1);
    assert.deepEqual(v.toNumbers(), [9, 8]);
    assert.deepEqual(i.toNumbers(), [1, 2]);
    assert.equal(i.dtype, 'int64');
    const [mv, mi] = x.minDim(0, true);
    assert.deepEqual(mv.shape, [1, 3]);
    assert.deepEqual(mi.toNumbers(), [0, 1, 0]);
    assert.equal(x.argmax().item(), 1);
    assert.deepEqual(x.argmax(1).toNumbers(), [1, 2]);
    assert.deepEqual(x.argmin(1).toNumbers(), [2, 1]);
    assert.deepEqual(x.amax(0).toNumbers(), [7, 9, 8]);
    assert.deepEqual(x.amin([0, 1]).toNumbers(), [1]);
    const [tv, ti] = tensor([1, 5, 3, 4]).topk(2);
    assert.deepEqual(tv.toNumbers(), [5, 4]);
    assert.deepEqual(ti.toNumbers(), [1, 3]);
    const [sv, si] = tensor([1, 5, 3, 4]).topk(2, -1, false);
    assert.deepEqual(sv.toNumbers(), [1, 3]);
    assert.deepEqual(si.toNumbers(), [0, 2]);
    const [sorted, order] = tensor([2, -1, 7]).sort(-1, true);
    assert.deepEqual(sorted.toNumbers(), [7, 2, -1]);
    assert.deepEqual(order.toNumbers(), [2, 0, 1]);
  });
});

test('logsumexp (stable for large inputs) and norms', () => {
  tidy(() => {
    assertClose(tensor([1, 2, 3]).logsumexp(0).item(), 3.4076059644443806);
    assertClose(tensor([1000, 1000]).logsumexp(0).item(), 1000 + Math.LN2, 1e-7);
    assertAllClose(tensor([0, 0, 1, 1], [2, 2]).logsumexp(1), [Math.LN2, 1 + Math.LN2]);
    const v = tensor([3, -4]);
    assertClose(v.norm().item(), 5);
    assertClose(v.norm(1).item(), 7);
    assertClose(v.norm(Infinity).item(), 4);
    assertAllClose(tensor([3, 4, 6, 8], [2, 2]).norm(2, 1), [5, 10]);
  });
});

test('matmul family: mm, bmm, broadcast matmul, outer, einsum against hand products', () => {
  tidy(() => {
    const a = tensor([1, 2, 3, 4], [2, 2]);
    const b = tensor([5, 6, 7, 8], [2, 2]);
    assert.deepEqual(a.matmul(b).toNumbers(), [19, 22, 43, 50]);
    assert.deepEqual(a.mm(b).toNumbers(), [19, 22, 43, 50]);
    assert.deepEqual(a.matmul(tensor([1, 1])).toNumbers(), [3, 7]);
    const batch = a.reshape([1, 2, 2]).expand([3, 2, 2]);
    assert.deepEqual(batch.bmm(b.reshape([1, 2, 2]).expand([3, 2, 2])).shape, [3, 2, 2]);
    assert.deepEqual(batch.matmul(b).select(0, 2).toNumbers(), [19, 22, 43, 50]);
    assert.deepEqual(outer(tensor([1, 2]), tensor([3, 4, 5])).toNumbers(), [3, 4, 5, 6, 8, 10]);
    assert.deepEqual(einsum('ij,jk->ik', a, b).toNumbers(), [19, 22, 43, 50]);
    assert.deepEqual(einsum('ii', a).toNumbers(), [5]);
  });
});

test('svd reconstructs, eigh of a symmetric matrix, slogdet', () => {
  tidy(() => {
    const m = tensor([4, 1, 2, 3, 0, 1], [3, 2], { dtype: 'float64' });
    const [u, s, vh] = svd(m);
    assert.deepEqual(s.shape, [2]);
    assertAllClose(u.mul(s).matmul(vh), m.toNumbers(), { atol: 1e-12 });
    const sym = tensor([2, 1, 1, 2], [2, 2], { dtype: 'float64' });
    const [w, vecs] = eigh(sym);
    assertAllClose(w, [1, 3], { atol: 1e-12 });
    assertAllClose(vecs.abs(), [Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2], { atol: 1e-12 });
    const [sign, logdet] = slogdet(tensor([0, 2, 3, 0], [2, 2], { dtype: 'float64' }));
    assert.equal(sign.item(), -1);
    assertClose(logdet.item(), Math.log(6), 1e-12);
  });
});

test('multinomial samples follow the probabilities (and never pick a zero-probability class)', () => {
  tidy(() => {
    manualSeed(5);
    const draws = multinomial(tensor([0.2, 0, 0.8]), 2000, true).toNumbers();
    const ones = draws.filter((d) => d === 2).length / draws.length;
    assert.ok(!draws.includes(1));
    assert.ok(Math.abs(ones - 0.8) < 0.05, `frequency ${ones}`);
  });
});

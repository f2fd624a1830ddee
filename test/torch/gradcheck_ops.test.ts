// Finite-difference gradient checks of elementwise math, shape ops, reductions and linear algebra.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, tensor, ids, cat, stack, where, einsum, outer, tidy } from '../../src/torch/index.js';
import { gradcheck, f64, awayFromZero } from './helpers.js';

const t64 = (values: number[], shape: number[]) => tensor(values, shape, { dtype: 'float64' });
const check = (fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], o = {}) => tidy(() => void gradcheck(fn, inputs, o));

test('gradcheck itself fails on a wrong gradient', () => {
  // x.detach() * x: autograd sees only one factor, so its gradient is x instead of 2x.
  tidy(() => assert.throws(() => gradcheck((x) => x.detach().mul(x), [f64([5], 1)]), /gradcheck failed/));
  // A dead gradient is reported instead of passing vacuously.
  tidy(() => assert.throws(() => gradcheck((x) => x.mul(0).add(x.detach()), [f64([3], 2)]), /all-zero/));
  // Inputs to check must be float64: float32 differences are too coarse for the tolerance.
  tidy(() => assert.throws(() => gradcheck((x) => x.exp(), [f64([3], 3).to('float32')]), /must be float64/));
});

test('binary arithmetic with broadcasting: add, sub, mul, div, pow, rsub', () => {
  const a = () => f64([2, 3], 1);
  const b = () => f64([3], 2, 0.5, 2); // broadcast over rows; positive for div and pow bases
  check((x, y) => x.add(y), [a(), b()]);
  check((x, y) => x.sub(y), [a(), b()]);
  check((x, y) => x.mul(y), [a(), b()]);
  check((x, y) => x.div(y), [a(), b()]);
  check((x) => x.add(2.5).mul(-1.5).sub(0.25).div(3), [a()]);
  check((x) => x.rsub(3), [a()]);
  check((x, y) => y.pow(x), [a(), b()]); // tensor exponent: d/dx of y^x = y^x·ln y
  check((x) => x.pow(3), [a()]);
  check((x) => x.pow(0.5), [f64([4], 3, 0.5, 2)]);
});

test('unary math: exp, log, sqrt, rsqrt, tanh, sigmoid, neg, square, reciprocal, sin, cos, expm1, log1p, erf', () => {
  const pos = () => f64([2, 3], 4, 0.3, 2);
  const any = () => f64([2, 3], 5, -2, 2);
  for (const f of [(x: Tensor) => x.exp(), (x: Tensor) => x.tanh(), (x: Tensor) => x.sigmoid(), (x: Tensor) => x.neg(),
    (x: Tensor) => x.square(), (x: Tensor) => x.sin(), (x: Tensor) => x.cos(), (x: Tensor) => x.expm1(), (x: Tensor) => x.erf()]) {
    check(f, [any()]);
  }
  for (const f of [(x: Tensor) => x.log(), (x: Tensor) => x.sqrt(), (x: Tensor) => x.rsqrt(), (x: Tensor) => x.reciprocal(), (x: Tensor) => x.log1p()]) {
    check(f, [pos()]);
  }
});

test('kinked functions away from their kinks: abs, clamp, maximum, minimum, relu-like', () => {
  const x = () => t64(awayFromZero(8, 6), [8]);
  check((v) => v.abs(), [x()]);
  // bounds at ±0.1 never coincide with |x| >= 0.2
  check((v) => v.clamp(-0.1, 0.1).add(v.clamp(null, 0.1)).add(v.clamp(-0.1, null)), [x()]);
  const y = () => t64(awayFromZero(8, 7), [8]);
  check((u, v) => u.maximum(v), [x(), y()]);
  check((u, v) => u.minimum(v), [x(), y()]);
  check((u) => u.maximum(0.05), [x()]);
});

test('shape ops: reshape, view, permute, transpose, T, flatten, squeeze, unsqueeze', () => {
  const x = () => f64([2, 3, 2], 8);
  check((v) => v.reshape([3, 4]), [x()]);
  check((v) => v.view([6, 2]), [x()]);
  check((v) => v.permute([2, 0, 1]).contiguous(), [x()]);
  check((v) => v.transpose(0, 2), [x()]);
  check((v) => v.reshape([6, 2]).T, [x()]);
  check((v) => v.flatten(1), [x()]);
  check((v) => v.unsqueeze(1).squeeze(1).squeeze(), [f64([2, 1, 3], 9)]);
});

test('slicing: narrow, slice with step, select, split, chunk, flip, roll, pad, repeat', () => {
  const x = () => f64([4, 5], 10);
  check((v) => v.narrow(1, 1, 3), [x()]);
  check((v) => v.slice(1, 0, null, 2), [x()]);
  check((v) => v.slice(0, 1, 3), [x()]);
  check((v) => v.select(0, 2), [x()]);
  check((v) => { const [a, b] = v.split([2, 3], 1) as [Tensor, Tensor]; return a.sum(1).add(b.mean(1)); }, [x()]);
  check((v) => { const [a, b] = v.chunk(2, 0) as [Tensor, Tensor]; return a.mul(b); }, [x()]);
  check((v) => v.flip(0, 1), [x()]);
  check((v) => v.roll([1, -2], [0, 1]), [x()]);
  check((v) => v.pad([1, 2, 0, 1], 0.5), [x()]);
  check((v) => v.repeat([2, 1]), [x()]);
});

test('joining and broadcasting: cat, stack, expand', () => {
  check((a, b) => cat([a, b], 1), [f64([2, 3], 11), f64([2, 2], 12)]);
  check((a, b) => stack([a, b], 1), [f64([2, 3], 13), f64([2, 3], 14)]);
  check((a) => a.expand([4, 3]), [f64([1, 3], 15)]); // gradient sums over the expanded rows
});

test('indexing: indexSelect (repeated ids accumulate), gather, scatterAdd, maskedFill, where, triu, tril', () => {
  check((v, i) => v.indexSelect(0, i), [f64([4, 3], 16), ids([2, 0, 2, 3])]);
  check((v, i) => v.gather(1, i), [f64([3, 4], 17), ids([[0, 3], [1, 1], [2, 0]])]);
  check((v, s, i) => v.scatterAdd(1, i, s), [f64([2, 4], 18), f64([2, 2], 19), ids([[0, 3], [1, 1]])]);
  check((v, m) => v.maskedFill(m, -3), [f64([2, 3], 20), tensor([true, false, false, true, true, false], [2, 3])]);
  check((a, b, c) => where(c, a, b), [f64([2, 3], 21), f64([2, 3], 22), tensor([true, false, true, false, false, true], [2, 3])]);
  check((a, c) => where(c, a, 0.5), [f64([2, 3], 23), tensor([true, false, true, false, false, true], [2, 3])]);
  check((v) => v.triu(), [f64([3, 3], 24)]);
  check((v) => v.tril(-1).add(v.triu(1)), [f64([3, 4], 25)]);
});

test('reductions: sum, mean (dims, keepdim), prod, cumsum', () => {
  const x = () => f64([2, 3, 2], 26);
  check((v) => v.sum(), [x()]);
  check((v) => v.sum([0, 2]), [x()]);
  check((v) => v.sum(1, true), [x()]);
  check((v) => v.mean(), [x()]);
  check((v) => v.mean(-1), [x()]);
  check((v) => v.prod(1), [f64([2, 3], 27, 0.5, 1.5)]);
  check((v) => v.prod(), [f64([4], 28, 0.5, 1.5)]);
  check((v) => v.cumsum(1), [x()]);
});

test('reductions: max, amax, amin, maxDim, logsumexp', () => {
  // uniform random values: ties (where max is not differentiable) have probability zero
  const x = () => f64([3, 4], 29);
  check((v) => v.max(), [x()]);
  check((v) => v.min(), [x()]);
  check((v) => v.amax(1), [x()]);
  check((v) => v.amin([0]), [x()]);
  check((v) => v.maxDim(0)[0], [x()]);
  check((v) => v.minDim(1, true)[0], [x()]);
  check((v) => v.logsumexp(1), [x()]);
  check((v) => v.logsumexp([0, 1]), [x()]);
});

test('norm, var, std', () => {
  const x = () => f64([3, 4], 30, 0.2, 1.5);
  check((v) => v.norm(), [x()]);
  check((v) => v.norm(2, 1), [x()]);
  check((v) => v.norm(1, 0, true), [t64(awayFromZero(12, 31), [3, 4])]);
  check((v) => v.var(), [x()]);
  check((v) => v.var(1, 0, true), [x()]);
  check((v) => v.var([0], 1), [x()]);
  check((v) => v.std(1), [x()]);
});

test('linear algebra: matmul (batched, broadcast, vector), mm, bmm, outer, einsum', () => {
  check((a, b) => a.matmul(b), [f64([2, 3], 32), f64([3, 4], 33)]);
  check((a, b) => a.matmul(b), [f64([2, 2, 3], 34), f64([3, 2], 35)]);
  check((a, b) => a.matmul(b), [f64([3], 36), f64([3, 2], 37)]);
  check((a, b) => a.mm(b), [f64([2, 3], 38), f64([3, 2], 39)]);
  check((a, b) => a.bmm(b), [f64([2, 2, 3], 40), f64([2, 3, 2], 41)]);
  check((a, b) => outer(a, b), [f64([3], 42), f64([2], 43)]);
  check((a, b) => einsum('bij,bjk->bik', a, b), [f64([2, 2, 3], 44), f64([2, 3, 2], 45)]);
});

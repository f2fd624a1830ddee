// Shape operations: values and view semantics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, arange, ids, cat, stack, where, zeros, tidy } from '../../src/torch/index.js';

const m23 = () => tensor([1, 2, 3, 4, 5, 6], [2, 3]);

test('reshape / view / flatten / squeeze / unsqueeze / permute / transpose', () => {
  tidy(() => {
    const x = m23();
    assert.deepEqual(x.reshape([3, 2]).shape, [3, 2]);
    assert.deepEqual(x.reshape(-1).shape, [6]);
    assert.deepEqual(x.view(3, -1).shape, [3, 2]);
    assert.deepEqual(x.T.toNumbers(), [1, 4, 2, 5, 3, 6]);
    assert.deepEqual(x.transpose(0, 1).contiguous().toNumbers(), [1, 4, 2, 5, 3, 6]);
    const y = arange(24).reshape([2, 3, 4]);
    assert.deepEqual(y.permute([2, 0, 1]).shape, [4, 2, 3]);
    assert.deepEqual(y.permute(2, 0, 1).select(0, 1).toNumbers(), [1, 5, 9, 13, 17, 21]);
    assert.deepEqual(y.flatten(1).shape, [2, 12]);
    assert.deepEqual(y.flatten().shape, [24]);
    assert.deepEqual(zeros([1, 3, 1]).squeeze().shape, [3]);
    assert.deepEqual(zeros([1, 3, 1]).squeeze(0).shape, [3, 1]);
    assert.deepEqual(zeros([3]).unsqueeze(-1).shape, [3, 1]);
  });
});

test('views share storage with their base (as in PyTorch)', () => {
  tidy(() => {
    const x = zeros([2, 3]);
    const v = x.view([6]);
    v.narrow(0, 4, 1).fill_(9);
    assert.deepEqual(x.toNumbers(), [0, 0, 0, 0, 9, 0]);
    const c = x.clone();
    c.fill_(1);
    assert.equal(x.sum().item(), 9, 'clone does not share');
  });
});

test('narrow, slice (negative, step, open end), select, split, chunk', () => {
  tidy(() => {
    const x = arange(10);
    assert.deepEqual(x.narrow(0, 2, 3).toNumbers(), [2, 3, 4]);
    assert.deepEqual(x.slice(0, 1, null, 3).toNumbers(), [1, 4, 7]);
    assert.deepEqual(x.slice(0, -3).toNumbers(), [7, 8, 9]);
    assert.deepEqual(x.slice(0, null, 2).toNumbers(), [0, 1]);
    assert.deepEqual(m23().select(1, 2).toNumbers(), [3, 6]);
    assert.deepEqual(x.split(4).map((t) => t.toNumbers()), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    assert.deepEqual(x.split([1, 9]).map((t) => t.numel), [1, 9]);
    assert.deepEqual(x.chunk(3).map((t) => t.numel), [4, 4, 2]);
  });
});

test('cat, stack, expand, repeat, flip, roll, pad', () => {
  tidy(() => {
    const a = m23();
    assert.deepEqual(cat([a, a], 0).shape, [4, 3]);
    assert.deepEqual(cat([a, a], 1).toNumbers(), [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
    assert.deepEqual(stack([a, a], 0).shape, [2, 2, 3]);
    assert.deepEqual(stack([a, a], 2).shape, [2, 3, 2]);
    assert.deepEqual(tensor([1, 2]).reshape([2, 1]).expand([2, 3]).toNumbers(), [1, 1, 1, 2, 2, 2]);
    assert.deepEqual(tensor([1, 2]).repeat([2]).toNumbers(), [1, 2, 1, 2]);
    assert.deepEqual(a.flip(1).toNumbers(), [3, 2, 1, 6, 5, 4]);
    assert.deepEqual(a.flip(0, 1).toNumbers(), [6, 5, 4, 3, 2, 1]);
    assert.deepEqual(tensor([1, 2, 3, 4]).roll([1], [0]).toNumbers(), [4, 1, 2, 3]);
    // F.pad order: last dimension first
    assert.deepEqual(tensor([1, 2]).reshape([1, 2]).pad([1, 0, 0, 1], 7).toNumbers(), [7, 1, 2, 7, 7, 7]);
  });
});

test('gather, scatter, scatterAdd, indexSelect, indexAdd, maskedFill, maskedSelect, nonzero, where', () => {
  tidy(() => {
    const x = m23();
    assert.deepEqual(x.gather(1, ids([[2, 0], [1, 1]])).toNumbers(), [3, 1, 5, 5]);
    assert.deepEqual(x.indexSelect(1, ids([2, 0])).toNumbers(), [3, 1, 6, 4]);
    assert.deepEqual(zeros([2, 3]).scatter(1, ids([[1], [2]]), 5).toNumbers(), [0, 5, 0, 0, 0, 5]);
    assert.deepEqual(zeros([4]).scatterAdd(0, ids([1, 1, 3]), tensor([1, 2, 3])).toNumbers(), [0, 3, 0, 3]);
    assert.deepEqual(zeros([3, 1]).indexAdd(0, ids([2, 2]), tensor([1, 4], [2, 1])).toNumbers(), [0, 0, 5]);
    const mask = tensor([true, false, true, false, false, true], [2, 3]);
    assert.deepEqual(x.maskedFill(mask, 0).toNumbers(), [0, 2, 0, 4, 5, 0]);
    assert.deepEqual(x.maskedFill(mask, tensor([-1], [])).toNumbers(), [-1, 2, -1, 4, 5, -1]);
    assert.deepEqual(x.maskedSelect(mask).toNumbers(), [1, 3, 6]);
    assert.deepEqual(mask.nonzero().toNumbers(), [0, 0, 0, 2, 1, 2]);
    assert.deepEqual(where(mask, x, -1).toNumbers(), [1, -1, 3, -1, -1, 6]);
    assert.deepEqual(where(mask, 1, 0).toNumbers(), [1, 0, 1, 0, 0, 1]);
    assert.deepEqual(where(mask, 9, x).toNumbers(), [9, 2, 9, 4, 5, 9]);
  });
});

test('triu / tril with diagonal offsets', () => {
  tidy(() => {
    const o = tensor([1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 3]);
    assert.deepEqual(o.triu().toNumbers(), [1, 1, 1, 0, 1, 1, 0, 0, 1]);
    assert.deepEqual(o.tril().toNumbers(), [1, 0, 0, 1, 1, 0, 1, 1, 1]);
    assert.deepEqual(o.triu(1).toNumbers(), [0, 1, 1, 0, 0, 1, 0, 0, 0]);
    assert.deepEqual(o.tril(-1).toNumbers(), [0, 0, 0, 1, 0, 0, 1, 1, 0]);
  });
});

test('broadcasting follows numpy rules', () => {
  tidy(() => {
    const a = tensor([1, 2], [2, 1, 1]);
    const b = tensor([10, 20, 30], [3, 1]);
    const c = tensor([100, 200], [2]);
    const s = a.add(b).add(c);
    assert.deepEqual(s.shape, [2, 3, 2]);
    assert.deepEqual(s.toNumbers(), [111, 211, 121, 221, 131, 231, 112, 212, 122, 222, 132, 232]);
    assert.deepEqual(m23().mul(tensor([1, 0, -1])).toNumbers(), [1, 0, -3, 4, 0, -6]);
    assert.throws(() => zeros([2, 3]).add(zeros([2])), /size of tensor a \(3\) must match the size of tensor b \(2\)/);
  });
});

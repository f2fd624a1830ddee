// F.* against textbook values and formulas computed here in double precision.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, ids, tidy, F, randn, manualSeed, ones } from '../../src/torch/index.js';
import { assertAllClose, assertClose, uniform } from './helpers.js';

const softmaxJs = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

test('softmax of [1, 2, 3] and logSoftmax; rows sum to 1', () => {
  tidy(() => {
    assertAllClose(F.softmax(tensor([1, 2, 3])), [0.09003057317038046, 0.24472847105479767, 0.6652409557748219]);
    assertAllClose(F.logSoftmax(tensor([1, 2, 3])), [1, 2, 3].map((x) => x - 3.4076059644443806));
    const p = F.softmax(randn([4, 7]), 1);
    assertAllClose(p.sum(1), [1, 1, 1, 1]);
    // dim 0 of a column vector is the only axis that sums to one there
    assertAllClose(F.softmax(tensor([0, 0], [2, 1]), 0), [0.5, 0.5]);
    // large logits do not overflow
    assertAllClose(F.softmax(tensor([1000, 1000])), [0.5, 0.5]);
  });
});

test('layerNorm of a known vector, with affine parameters', () => {
  tidy(() => {
    // [1, 2, 3, 4]: mean 2.5, population variance 1.25
    const s = Math.sqrt(1.25 + 1e-5);
    const norm = [-1.5, -0.5, 0.5, 1.5].map((d) => d / s);
    assertAllClose(F.layerNorm(tensor([1, 2, 3, 4]), [4]), norm);
    const y = F.layerNorm(tensor([1, 2, 3, 4, 1, 2, 3, 4], [2, 4]), [4], tensor([1, 2, 1, 2]), tensor([0, 0, 1, 1]));
    assertAllClose(y, [norm[0]!, 2 * norm[1]!, norm[2]! + 1, 2 * norm[3]! + 1, norm[0]!, 2 * norm[1]!, norm[2]! + 1, 2 * norm[3]! + 1]);
  });
});

test('rmsNorm of a known vector; float16 / bfloat16 inputs are normalised in float32', () => {
  tidy(() => {
    const rms = Math.sqrt((1 + 4 + 9 + 16) / 4 + 1e-6);
    assertAllClose(F.rmsNorm(tensor([1, 2, 3, 4])), [1, 2, 3, 4].map((x) => x / rms));
    assertAllClose(F.rmsNorm(tensor([1, 2, 3, 4]), tensor([2, 2, 2, 2])), [1, 2, 3, 4].map((x) => (2 * x) / rms));
    const big = tensor([300, -400, 500, 600]);
    const ref = F.rmsNorm(big).toNumbers();
    for (const dt of ['float16', 'bfloat16'] as const) {
      const y = F.rmsNorm(big.to(dt), tensor([1, 1, 1, 1]).to(dt));
      assert.equal(y.dtype, dt);
      assertAllClose(y.toNumbers(), ref, { rtol: dt === 'float16' ? 2e-3 : 1e-2 });
    }
  });
});

test('GELU (erf and tanh) and SiLU at known points', () => {
  tidy(() => {
    assertAllClose(F.gelu(tensor([-1, 0, 1, 3])), [-0.15865525393145707, 0, 0.8413447460685429, 2.9959502751],
      { rtol: 1e-6 });
    const tanhGelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    assertAllClose(F.gelu(tensor([-1, 0.5, 1]), 'tanh'), [-1, 0.5, 1].map(tanhGelu));
    assert.ok(Math.abs(tanhGelu(1) - 0.8413447460685429) > 1e-4, 'the two GELUs differ');
    assertAllClose(F.silu(tensor([1, -2])), [1 / (1 + Math.exp(-1)), -2 / (1 + Math.exp(2))]);
    assertAllClose(F.relu(tensor([-1, 0, 2])), [0, 0, 2]);
  });
});

test('crossEntropy = mean NLL of softmax; ignoreIndex; label smoothing formula; reductions', () => {
  tidy(() => {
    const n = 5, c = 4;
    const z = uniform(n * c, 3, -3, 3);
    const y = [0, 3, 1, 1, 2];
    const logits = tensor(z, [n, c], { dtype: 'float64' });
    const rows = Array.from({ length: n }, (_, i) => z.slice(i * c, i * c + c));
    const logp = rows.map((r) => softmaxJs(r).map(Math.log));
    const nll = y.map((t, i) => -logp[i]![t]!);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assertClose(F.crossEntropy(logits, ids(y)).item(), mean(nll), 1e-12);
    assertAllClose(F.crossEntropy(logits, ids(y), { reduction: 'none' }), nll, { rtol: 1e-12 });
    assertClose(F.crossEntropy(logits, ids(y), { reduction: 'sum' }).item(), nll.reduce((a, b) => a + b), 1e-12);
    // ignoreIndex: those rows leave both the sum and the count
    const kept = nll.filter((_, i) => y[i] !== 1);
    assertClose(F.crossEntropy(logits, ids(y), { ignoreIndex: 1 }).item(), mean(kept), 1e-12);
    // label smoothing ε: (1-ε)·NLL + ε·mean over classes of -log p
    const eps = 0.2;
    const smooth = y.map((t, i) => (1 - eps) * -logp[i]![t]! + (eps * -logp[i]!.reduce((a, b) => a + b, 0)) / c);
    assertClose(F.crossEntropy(logits, ids(y), { labelSmoothing: eps }).item(), mean(smooth), 1e-12);
    assertClose(F.nllLoss(F.logSoftmax(logits), ids(y)).item(), mean(nll), 1e-12);
  });
});

test('mseLoss, cosineSimilarity, binaryCrossEntropyWithLogits', () => {
  tidy(() => {
    assertClose(F.mseLoss(tensor([1, 2, 3]), tensor([1, 0, 0])).item(), 13 / 3);
    assertClose(F.mseLoss(tensor([1, 2, 3]), tensor([1, 0, 0]), 'sum').item(), 13);
    assertAllClose(F.mseLoss(tensor([1, 2]), tensor([0, 0]), 'none'), [1, 4]);
    assertAllClose(F.cosineSimilarity(tensor([1, 0, 0, 1], [2, 2]), tensor([1, 1, 0, -1], [2, 2])), [Math.SQRT1_2, -1]);
    assertAllClose(F.cosineSimilarity(tensor([1, 0, 0, 1], [2, 2]), tensor([1, 1, 0, 1], [2, 2]), 0), [1, Math.SQRT1_2]);
    const bce = (x: number, t: number) => -(t * Math.log(1 / (1 + Math.exp(-x))) + (1 - t) * Math.log(1 - 1 / (1 + Math.exp(-x))));
    assertClose(F.binaryCrossEntropyWithLogits(tensor([0.5, -2]), tensor([1, 0.3])).item(), (bce(0.5, 1) + bce(-2, 0.3)) / 2);
  });
});

test('cdist: known Euclidean and Manhattan distances, batched', () => {
  tidy(() => {
    const a = tensor([0, 0, 3, 4], [2, 2]);
    const b = tensor([0, 0, 6, 8, 3, 0], [3, 2]);
    assertAllClose(F.cdist(a, b), [0, 10, 3, 5, 5, 4]);
    assertAllClose(F.cdist(a, b, 1), [0, 14, 3, 7, 7, 4]);
    assert.deepEqual(F.cdist(randn([4, 5, 3]), randn([4, 6, 3])).shape, [4, 5, 6]);
  });
});

test('embedding picks rows; dropout is identity in eval and scales kept units by 1/(1-p) in train', () => {
  tidy(() => {
    const w = tensor([0, 1, 10, 11, 20, 21], [3, 2]);
    assert.deepEqual(F.embedding(w, ids([[2, 0], [1, 1]])).toNumbers(), [20, 21, 0, 1, 10, 11, 10, 11]);
    const x = ones([2000]);
    assert.deepEqual(F.dropout(x, 0.5, false).toNumbers(), x.toNumbers());
    manualSeed(1);
    const d = F.dropout(x, 0.25, true).toNumbers();
    assert.ok(d.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
    const dropped = d.filter((v) => v === 0).length / d.length;
    assert.ok(Math.abs(dropped - 0.25) < 0.05, `dropped ${dropped}`);
    assert.throws(() => F.dropout(x, 1, true), RangeError);
  });
});

test('attention equals softmax(QKᵀ/√d)V; causal row 0 sees only key 0; masks broadcast', () => {
  tidy(() => {
    manualSeed(2);
    const [b, h, t, d] = [2, 3, 4, 8];
    const q = randn([b, h, t, d], { dtype: 'float64' });
    const k = randn([b, h, t, d], { dtype: 'float64' });
    const v = randn([b, h, t, d], { dtype: 'float64' });
    const manual = F.softmax(q.matmul(k.transpose(-2, -1)).div(Math.sqrt(d)), -1).matmul(v);
    assertAllClose(F.attention(q, k, v), manual.toNumbers(), { rtol: 1e-10, atol: 1e-12 });

    const causal = F.attention(q, k, v, { causal: true });
    assertAllClose(causal.narrow(2, 0, 1), v.narrow(2, 0, 1).toNumbers(), { rtol: 1e-10, atol: 1e-12 });
    const allow = ones([t, t], { dtype: 'bool' }).tril();
    const viaMask = F.attention(q, k, v, { mask: allow.reshape([1, 1, t, t]) });
    assertAllClose(causal, viaMask.toNumbers(), { rtol: 1e-10, atol: 1e-12 });
    // the last row attends to everything: unchanged by causality
    assertAllClose(causal.narrow(2, t - 1, 1), manual.narrow(2, t - 1, 1).toNumbers(), { rtol: 1e-10, atol: 1e-12 });

    // KV cache: one query against 4 keys with causal = attends to all of them
    const q1 = q.narrow(2, t - 1, 1);
    assertAllClose(F.attention(q1, k, v, { causal: true }), manual.narrow(2, t - 1, 1).toNumbers(), { rtol: 1e-10, atol: 1e-12 });

    // padding mask [B, 1, 1, Tk]: masked keys get no weight
    const pad = tensor([true, true, false, false, true, true, true, true], [2, 1, 1, 4]);
    const masked = F.attention(q, k, v, { mask: pad });
    const onlyTwo = F.attention(q.narrow(0, 0, 1), k.narrow(0, 0, 1).narrow(2, 0, 2), v.narrow(0, 0, 1).narrow(2, 0, 2));
    assertAllClose(masked.narrow(0, 0, 1), onlyTwo.toNumbers(), { rtol: 1e-10, atol: 1e-12 });
  });
});

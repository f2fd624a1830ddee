// The fused small-shape attention kernel (native/src/small_attention.cc) against the composed
// attention in float64: outputs and the gradients of q, k and v.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, tidy, F, grad, liveTensors } from '../../src/torch/index.js';
import { native } from '../../src/torch/native.js';
import { f64, assertAllClose } from './helpers.js';

interface Case { name: string; q: number[]; k: number[]; mask?: Tensor; causal?: boolean; transposed?: boolean }

function compare(c: Case, seed: number): void {
  tidy(() => {
    const [B, H, Tq, D] = c.q;
    const Tk = c.k[2]!;
    // Inputs as a model makes them: [B, T, H, D] transposed to [B, H, T, D] (not contiguous) when asked.
    const make = (shape: number[], s: number) => (c.transposed ? f64([shape[0]!, shape[2]!, shape[1]!, shape[3]!], s).transpose(1, 2) : f64(shape, s));
    const q64 = make([B!, H!, Tq!, D!], seed).requiresGrad_(true);
    const k64 = make([B!, H!, Tk, D!], seed + 1).requiresGrad_(true);
    const v64 = make([B!, H!, Tk, D!], seed + 2).requiresGrad_(true);
    const up = f64([B!, H!, Tq!, D!], seed + 3);
    const ref = F.attention(q64, k64, v64, { mask: c.mask, causal: c.causal });
    const refGrads = grad([ref.mul(up).sum()], [q64, k64, v64]);
    const [q, k, v] = [q64, k64, v64].map((t) => t.detach().float().requiresGrad_(true)) as [Tensor, Tensor, Tensor];
    const out = new Tensor(native.smallAttention(q.handle, k.handle, v.handle, c.mask?.handle ?? null, c.causal ?? false));
    assertAllClose(out, ref.toNumbers(), { rtol: 1e-4, atol: 1e-5 });
    const grads = grad([out.mul(up.float()).sum()], [q, k, v]);
    grads.forEach((g, i) => assertAllClose(g!, refGrads[i]!.toNumbers(), { rtol: 1e-4, atol: 1e-5 }));
    // attention() takes the fused kernel for float32: the same numbers
    assertAllClose(F.attention(q, k, v, { mask: c.mask, causal: c.causal }), out.toNumbers(), { rtol: 1e-6, atol: 1e-7 });
  });
}

test('the fused attention kernel equals the composed one, forward and backward', () => {
  const live0 = liveTensors();
  const pad = tensor([true, true, true, false, true, true, true, true, true, true, false, false], [3, 1, 1, 4]);
  const cases: Case[] = [
    { name: 'plain', q: [2, 3, 5, 8], k: [2, 3, 5, 8] },
    { name: 'causal', q: [2, 3, 6, 8], k: [2, 3, 6, 8], causal: true },
    { name: 'causal, KV cache (Tk > Tq)', q: [2, 2, 1, 8], k: [2, 2, 7, 8], causal: true },
    { name: 'causal, KV cache, several queries', q: [1, 2, 3, 4], k: [1, 2, 7, 4], causal: true },
    { name: 'padding mask [B,1,1,Tk] with causal', q: [3, 2, 4, 8], k: [3, 2, 4, 8], mask: pad, causal: true },
    { name: 'not contiguous (transposed heads)', q: [2, 4, 6, 8], k: [2, 4, 6, 8], causal: true, transposed: true },
    { name: 'the fit\'s shapes', q: [4, 8, 32, 8], k: [4, 8, 32, 8], causal: true },
  ];
  cases.forEach((c, i) => assert.doesNotThrow(() => compare(c, 300 + 10 * i), c.name));
  pad.dispose();
  assert.equal(liveTensors(), live0, 'the fused kernel leaked tensors');
});

test('the fused attention kernel: a query that may attend to nothing gives zeros and zero gradients', () => {
  tidy(() => {
    const q = f64([1, 1, 2, 4], 400).float().requiresGrad_(true);
    const k = f64([1, 1, 3, 4], 401).float().requiresGrad_(true);
    const v = f64([1, 1, 3, 4], 402).float().requiresGrad_(true);
    const mask = tensor([true, false, true, false, false, false], [1, 1, 2, 3]);
    const out = new Tensor(native.smallAttention(q.handle, k.handle, v.handle, mask.handle, false));
    assert.deepEqual(out.select(2, 1).toNumbers(), [0, 0, 0, 0]);
    const gs = grad([out.mul(out).sum()], [q, k, v]);
    for (const g of gs) assert.ok(g!.toNumbers().every(Number.isFinite), 'gradient is finite');
    assert.deepEqual(gs[0]!.select(2, 1).toNumbers(), [0, 0, 0, 0], 'the masked query gets no gradient');
  });
});

test('the fused attention kernel refuses what it does not take (the composed path keeps those)', () => {
  tidy(() => {
    const q = f64([1, 2, 3, 4], 410);
    assert.throws(() => native.smallAttention(q.handle, q.handle, q.handle, null, false), /float32/);
    const qf = q.float();
    const kGrouped = f64([1, 1, 3, 4], 411).float();
    assert.throws(() => native.smallAttention(qf.handle, kGrouped.handle, kGrouped.handle, null, false), /equal heads/);
    // and attention() still computes those through the composed path
    assert.equal(F.attention(q, q, q, { causal: true }).dtype, 'float64');
  });
});

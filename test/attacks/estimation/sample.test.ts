// The windows estimation works on: a seeded stratified sample of the capture, sized by the
// adapters' parameters, and the capture read into merged batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, zeros, tensor, cat, liveTensors } from '../../../src/torch/index.js';
import { DeviceEstimate, adapterParameterCount, ownBatches, releaseBatches, releaseSample, sampleSize, sampleWindows } from '../../../src/attacks/estimation/index.js';
import { MemoryInterceptSource, makeBatch } from '../../../src/attacks/intercept.js';
import { DeviceModel } from '../../../src/models/index.js';
import type { InterceptedBatch } from '../../../src/attacks/index.js';
import { tiny } from '../helpers.js';

test('a sample of windows takes one from each stratum of the capture (seeded) and frees what it copied', () => {
  const live0 = liveTensors();
  const batch = (B: number, from: number): InterceptedBatch => ({ hidden: tensor(Array.from({ length: B * 2 }, (_, i) => from + Math.floor(i / 2)), [B, 1, 2]), attentionMask: tidy(() => zeros([B, 1]).add(1)), splitPoint: 1 });
  const batches = [batch(4, 0), batch(4, 4), batch(2, 8)];
  const takenOf = (s: ReturnType<typeof sampleWindows>) => s.batches.flatMap((b) => tidy(() => b.hidden.select(-1, 0).flatten().toNumbers()));
  try {
    const whole = sampleWindows(batches, 10);
    assert.ok(whole.all && whole.batches[1] === batches[1] && whole.origin.every((o) => o.rows === null));
    releaseSample(whole);
    const s = sampleWindows(batches, 5);
    try {
      assert.equal(s.all, false);
      const taken = takenOf(s);
      assert.deepEqual(taken.map((w) => Math.floor(w / 2)), [0, 1, 2, 3, 4], 'one window from each stratum of two, in capture order');
      assert.deepEqual(s.origin.flatMap((o) => o.rows!.toNumbers().map((r) => 4 * o.batch + r)), taken, 'origin names the rows taken');
      const again = sampleWindows(batches, 5);
      assert.deepEqual(takenOf(again), taken, 'the same seed draws the same sample');
      releaseSample(again);
      const draws = new Set(Array.from({ length: 8 }, (_, seed) => {
        const o = sampleWindows(batches, 5, seed);
        const t = takenOf(o).join();
        releaseSample(o);
        return t;
      }));
      assert.ok(draws.size > 1, 'the seed decides the draw');
    } finally {
      releaseSample(s);
    }
  } finally {
    for (const b of batches) {
      b.hidden.dispose();
      b.attentionMask.dispose();
    }
  }
  assert.equal(liveTensors(), live0, 'the sample leaked tensors');
});

test('a capture whose text repeats is not aliased: the sample keeps most of its distinct windows', () => {
  // 4 repeats of 14 windows (a device sending its text each epoch), sampled to 24: evenly spaced
  // picks would land on 6 distinct windows.
  const period = 14;
  const b: InterceptedBatch = { hidden: tensor(Array.from({ length: 4 * period }, (_, i) => i % period), [4 * period, 1, 1]), attentionMask: tidy(() => zeros([4 * period, 1]).add(1)), splitPoint: 1 };
  try {
    for (const seed of [0, 1, 2]) {
      const s = sampleWindows([b], 24, seed);
      const distinct = new Set(s.batches.flatMap((x) => tidy(() => x.hidden.flatten().toNumbers())));
      releaseSample(s);
      assert.ok(distinct.size >= 10, `seed ${seed}: ${distinct.size} distinct windows of ${period}`);
    }
  } finally {
    b.hidden.dispose();
    b.attentionMask.dispose();
  }
});

test('the sample grows with the parameters the adapters fit: wider adapters get more windows', () => {
  const live0 = liveTensors();
  const t = tiny(0);
  const base = t.knowledge(2).device;
  assert.ok(base instanceof DeviceModel);
  // 40 windows of 16 positions, the last 10 half padding: 14 real positions a window, × width 32.
  const mask = tidy(() => cat([zeros([30, 16]).add(1), cat([zeros([10, 8]).add(1), zeros([10, 8])], 1)], 0));
  const batches = [makeBatch(zeros([40, 16, 32]), mask, 2)];
  const qv = { rank: 4, targets: ['q', 'v'] };
  const every = { rank: 4, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] };
  try {
    for (const spec of [qv, every, { ...every, extras: true }]) {
      const est = DeviceEstimate.create(base, spec, 0);
      const fitted = est.device.namedParameters().filter(([n, p]) => p.requiresGrad && !n.endsWith('wte.weight')).reduce((a, [, p]) => a + p.numel, 0);
      est.dispose();
      assert.equal(adapterParameterCount(base, spec), fitted, `${JSON.stringify(spec)}: the count is what the estimate trains (embedding rows aside)`);
    }
    // By hand: per block q 4 × (32 + 32) and v 4 × (32 + 16) (two KV heads of 8), two blocks.
    assert.equal(adapterParameterCount(base, qv), 896);
    const o = { specs: [qv], sampleWindows: 4, samplePerParameter: 6 };
    assert.equal(sampleSize(base, batches, o), 12, '6 × 896 parameters / (14 positions × 32) per window');
    assert.equal(sampleSize(base, batches, { ...o, samplePerParameter: 1 }), 4, 'never below sampleWindows');
    assert.equal(sampleSize(base, batches, { ...o, sampleWindows: 0 }), 0, '0 still means every window');
    const wide = sampleSize(base, batches, { ...o, specs: [qv, every] });
    assert.equal(wide, Math.ceil((6 * adapterParameterCount(base, every)) / (14 * 32)), 'the widest candidate shape decides');
    assert.ok(wide > 40, `adapters on every projection need more than this capture holds (${wide})`);
    const s = sampleWindows(batches, wide);
    assert.equal(s.all, true, 'so the rounds use every window');
    releaseSample(s);
  } finally {
    releaseBatches(batches);
    t.dispose();
  }
  assert.equal(liveTensors(), live0, 'sizing the sample leaked tensors');
});

test('a capture sent a few windows at a time is read as merged batches, padded, in window order', () => {
  const t = tiny();
  const device = t.knowledge(1).device;
  const D = device.config.dModel;
  const live0 = liveTensors();
  // Window w's states are all w + 1; lengths differ per batch (T 5, 4, 5, 3).
  const batch = (from: number, B: number, T: number) => makeBatch(
    tidy(() => zeros([B, T, D]).add(tensor(Array.from({ length: B }, (_, i) => from + i + 1), [B, 1, 1]))),
    tidy(() => zeros([B, T]).add(1)), 1);
  const source = new MemoryInterceptSource(1, [batch(0, 3, 5), batch(3, 3, 4), batch(6, 2, 5), batch(8, 3, 3)]);
  try {
    const merged = ownBatches(source, device, 8);
    try {
      assert.deepEqual(merged.map((b) => b.hidden.shape), [[8, 5, D], [3, 3, D]]);
      const first = merged.flatMap((b) => tidy(() => b.hidden.select(1, 0).select(-1, 0).toNumbers()));
      assert.deepEqual(first, Array.from({ length: 11 }, (_, i) => i + 1), 'windows keep their order');
      // The second batch's windows (T 4) are padded to 5: masked, zero states.
      assert.deepEqual(tidy(() => merged[0]!.attentionMask.sum(1).toNumbers()), [5, 5, 5, 4, 4, 4, 5, 5]);
      assert.equal(tidy(() => merged[0]!.hidden.narrow(0, 3, 3).select(1, 4).abs().sum().item()), 0);
      assert.equal(tidy(() => merged[0]!.hidden.narrow(0, 3, 3).select(1, 3).select(-1, 0).sub(tensor([4, 5, 6])).abs().sum().item()), 0);
    } finally {
      releaseBatches(merged);
    }
  } finally {
    source.dispose();
  }
  assert.equal(liveTensors(), live0, 'merging leaked tensors');
  t.dispose();
});

// A device estimate inverts on merged weights: its snapshot and its frozen self.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noGrad, tidy, liveTensors } from '../../../src/torch/index.js';
import { padBatch } from '../../../src/data/windows.js';
import type { DevicePart } from '../../../src/models/index.js';
import { sentences, tiny } from '../helpers.js';
import { drifted } from './helpers.js';

test('an estimate inverts on merged weights: its snapshot and its frozen self re-encode as the adapters do', () => {
  const t = tiny(61);
  const base = t.knowledge(2).device;
  const est = drifted(base, 0.3, 7);
  const seqs = sentences(6, 29).map((s) => t.tokenizer.encode(s, { addBos: true }).slice(0, 12));
  const live = liveTensors();
  try {
    const { ids, mask } = padBatch(seqs);
    const h = (d: DevicePart) => noGrad(() => d.forward(ids, { attentionMask: mask }).hidden);
    const want = h(est.device);
    const snap = est.snapshot();
    const got = h(snap);
    const drift = noGrad(() => tidy(() => want.sub(h(base)).abs().max().item()));
    assert.ok(drift > 1e-2, 'the adapters change the states');
    assert.ok(noGrad(() => tidy(() => got.sub(want).abs().max().item())) < 1e-4, 'snapshot = estimate');
    assert.ok(snap.namedParameters().every(([n, p]) => !/lora/.test(n) && !p.requiresGrad), 'no adapters, nothing trainable');
    snap.dispose();
    got.dispose();
    est.freeze();
    const frozen = h(est.device);
    assert.ok(noGrad(() => tidy(() => frozen.sub(want).abs().max().item())) < 1e-4, 'frozen = estimate');
    assert.throws(() => est.fit([], { steps: 1, lr: 1e-2, l2Weight: 1, windows: 16 }), /frozen/);
    for (const x of [want, frozen, ids, mask]) x.dispose();
  } finally {
    est.dispose();
  }
  assert.ok(liveTensors() <= live, `no tensors left behind (${liveTensors()} > ${live})`);
  t.dispose();
});

// A device estimate kept across captures: saved and loaded it re-encodes as before, a stored
// estimate that matches the device makes the next estimation skip its rounds, and a file for
// another split or of another kind is refused with a message that says so.
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { noGrad, tidy, liveTensors, saveSafetensors, zeros } from '../../../src/torch/index.js';
import { padBatch } from '../../../src/data/windows.js';
import { simulateCapture } from '../../../src/experiments/index.js';
import { estimateDevice, loadDeviceEstimate, saveDeviceEstimate, EstimateFileError } from '../../../src/attacks/estimation/index.js';
import type { DevicePart } from '../../../src/models/index.js';
import { sentences, tiny } from '../helpers.js';
import { drifted } from './helpers.js';

test('a stored estimate loads as it was saved, and traffic it matches skips estimation', () => {
  const t = tiny(71);
  const base = t.knowledge(2).device;
  const victim = drifted(base, 0.35, 5);
  victim.freeze();
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-estimate-'));
  const live = liveTensors();
  try {
    const file = join(dir, 'device.safetensors');
    saveDeviceEstimate(file, victim.device, { note: 'test' });
    const loaded = loadDeviceEstimate(file, base);
    const src = simulateCapture(victim.device, t.tokenizer, sentences(8, 33), { addBos: true, maxTokens: 12, batchSize: 64 });
    try {
      const texts = sentences(4, 34).map((s) => t.tokenizer.encode(s, { addBos: true }).slice(0, 12));
      const { ids, mask } = padBatch(texts);
      const h = (d: DevicePart) => noGrad(() => d.forward(ids, { attentionMask: mask }).hidden);
      const [a, b, c] = [h(victim.device), h(loaded), h(base)];
      assert.ok(noGrad(() => tidy(() => a.sub(b).abs().max().item())) < 1e-5, 'the loaded estimate re-encodes as the saved one');
      assert.ok(noGrad(() => tidy(() => a.sub(c).abs().max().item())) > 1e-2, 'and differs from the pretrained part');
      for (const x of [a, b, c, ids, mask]) x.dispose();
      // The server's next capture of this device, with the stored estimate as the known part: clean.
      const batch = [...src.batches(64)][0]!;
      const truth = noGrad(() => padBatch(sentences(8, 33).map((s) => t.tokenizer.encode(s, { addBos: true }).slice(0, 12))).ids);
      let calls = 0;
      const r = estimateDevice(loaded, [batch], () => (calls++, [truth.clone()]), { specs: [{ rank: 4, targets: ['q', 'v'] }] });
      assert.equal(r.estimate, null, 'traffic the stored estimate explains needs no new estimate');
      assert.equal(r.rounds.length, 0);
      assert.equal(calls, 1, 'one inversion, no rounds');
      const again = estimateDevice(base, [batch], () => [truth.clone()], { specs: [{ rank: 4, targets: ['q', 'v'] }], rounds: 1, steps: 5, finalSteps: 5 });
      assert.ok(again.estimate, 'with the pretrained part the same traffic is drifted');
      again.estimate.dispose();
      truth.dispose();
      batch.hidden.dispose();
      batch.attentionMask.dispose();
    } finally {
      src.dispose();
      loaded.dispose();
    }
  } finally {
    victim.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(liveTensors() <= live, `no tensors left behind (${liveTensors()} > ${live})`);
  t.dispose();
});

test('an estimate for another split, a file of another kind, a missing file and unmerged adapters are refused', () => {
  const t = tiny(72);
  const base1 = t.knowledge(1).device;
  const base2 = t.knowledge(2).device;
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-estimate-'));
  const est = drifted(base2, 0.1, 1);
  try {
    assert.throws(() => saveDeviceEstimate(join(dir, 'x.safetensors'), est.device), (e: Error) => e instanceof EstimateFileError && /unmerged adapters/.test(e.message));
    est.freeze();
    const file = join(dir, 'k2.safetensors');
    saveDeviceEstimate(file, est.device);
    assert.throws(() => loadDeviceEstimate(file, base1), (e: Error) => e instanceof EstimateFileError && /for split 2, not 1/.test(e.message));
    const other = join(dir, 'other.safetensors');
    const z = zeros([2, 2]);
    saveSafetensors(other, new Map([['w', z]]), { format: 'revertlm-lora' });
    z.dispose();
    assert.throws(() => loadDeviceEstimate(other, base2), (e: Error) => e instanceof EstimateFileError && /not a device estimate \(format revertlm-lora\)/.test(e.message));
    writeFileSync(join(dir, 'junk.safetensors'), 'not safetensors');
    assert.throws(() => loadDeviceEstimate(join(dir, 'junk.safetensors'), base2), (e: Error) => e instanceof EstimateFileError && /cannot read a device estimate/.test(e.message) && /--save-estimate/.test((e as EstimateFileError).hint ?? ''));
    assert.throws(() => loadDeviceEstimate(join(dir, 'missing.safetensors'), base2), EstimateFileError);
  } finally {
    est.dispose();
    rmSync(dir, { recursive: true, force: true });
    t.dispose();
  }
});

// Adapter estimation: a device part drifted by a known synthetic LoRA is estimated from its own
// traffic (the reconstructions' confident positions), most of the drift is explained, and inversion
// with the estimate beats inversion with the pretrained part alone.
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { noGrad, tidy, keep, zeros, tensor, liveTensors, type Tensor } from '../../../src/torch/index.js';
import { createAttack, withAnnouncedAdapters, type Attack, type InterceptedBatch } from '../../../src/attacks/index.js';
import { padBatch } from '../../../src/data/windows.js';
import { simulateCapture } from '../../../src/experiments/index.js';
import { DeviceEstimate, estimateDevice, releaseSample, sampleWindows } from '../../../src/attacks/estimation/index.js';
import { repair } from '../../../src/attacks/revertlm/repair.js';
import { reencodeDistance } from '../../../src/attacks/reencode.js';
import { type DevicePart } from '../../../src/models/index.js';
import { sentences, tiny, type Tiny } from '../helpers.js';
import { drifted } from './helpers.js';


/** Relative L2 of H_k between two device parts on the same windows. */
function relDrift(a: DevicePart, b: DevicePart, seqs: number[][]): number {
  return noGrad(() => tidy(() => {
    const { ids, mask } = padBatch(seqs);
    const m = mask.unsqueeze(-1).float();
    const ha = a.forward(ids, { attentionMask: mask }).hidden.mul(m);
    const hb = b.forward(ids, { attentionMask: mask }).hidden.mul(m);
    return Math.sqrt(ha.sub(hb).square().sum().item() / ha.square().sum().item());
  }));
}

/** A white-box inverter for the estimator alone: left-to-right search over the whole vocabulary. */
function exhaustive(t: Tiny, batch: InterceptedBatch): (device: DevicePart) => Tensor[] {
  const V = t.tokenizer.vocabSize;
  const [B, T] = batch.attentionMask.shape as [number, number];
  return (device) => [keep(tidy(() => repair(device, zeros([B, T], { dtype: 'int64' }).add(1).long(), batch.hidden, batch.attentionMask, {
    topK: V, escalateK: V, maxPasses: 1, tolerance: 0, acceptScale: 0, priorWeight: 0, l2Weight: 1, fixFirst: true, proposals: () => ({ sources: [zeros([B, T, V])] }),
  })))];
}

/** 24 windows of a device drifted by a synthetic LoRA (scale 0.35), with the pretrained part and the true windows. */
function driftedCapture(family: 'llama' | 'gpt2' = 'llama'): { t: Tiny; base: DevicePart; victim: DeviceEstimate; seqs: number[][]; src: ReturnType<typeof simulateCapture> } {
  const t = tiny(51, family);
  const base = t.knowledge(2).device;
  const victim = drifted(base, 0.35, 3);
  const seqs = sentences(24, 21).map((s) => t.tokenizer.encode(s, { addBos: true }).slice(0, 14));
  const src = simulateCapture(victim.device, t.tokenizer, sentences(24, 21), { addBos: true, maxTokens: 14, batchSize: 64 });
  return { t, base, victim, seqs, src };
}

for (const family of ['llama', 'gpt2'] as const) test(`adapter estimation explains most of a synthetic LoRA drift from the traffic alone (${family})`, () => {
  const live0 = liveTensors();
  const { t, base, victim, seqs, src } = driftedCapture(family);
  try {
    const batch = [...src.batches(64)][0]!;
    const drift = relDrift(victim.device, base, seqs);
    const calls: [number, boolean][] = [];
    const invert = exhaustive(t, batch);
    const r = estimateDevice(base, [batch], (d, round, final) => (calls.push([round, final]), invert(d)), { specs: [{ rank: 4, targets: ['q', 'v'] }], rounds: 3, maxRounds: 0, steps: 120, refineSteps: 80, finalSteps: 160, lr: 2e-2 });
    try {
      assert.ok(r.estimate, 'drifted traffic must be adapted to');
      assert.deepEqual(calls, [[0, false], [1, false], [2, false], [3, true]], 'the inversion is told which round is the last');
      const left = relDrift(victim.device, r.estimate.device, seqs);
      if (process.env.REVERTLM_TEST_VERBOSE) console.error({ drift, left, rounds: r.rounds, before: r.medianBefore, after: r.medianAfter });
      assert.ok(drift > 0.15, `the synthetic drift is too small to test anything (${drift})`);
      assert.ok(left < 0.3 * drift, `estimate leaves ${left.toFixed(3)} of drift ${drift.toFixed(3)}`);
      assert.ok(r.medianAfter! < 0.1 * r.medianBefore, `mismatch ${r.medianBefore} → ${r.medianAfter}`);
    } finally {
      r.estimate?.dispose();
    }
  } finally {
    src.dispose();
    victim.dispose();
    t.dispose();
  }
  assert.equal(liveTensors(), live0, 'estimation leaked tensors');
});

test('the last fit starts from the pretrained part again (freshLast), or goes on from the rounds\' estimate', () => {
  const live0 = liveTensors();
  const { t, base, victim, seqs, src } = driftedCapture();
  try {
    const batch = [...src.batches(64)][0]!;
    const invert = exhaustive(t, batch);
    // No steps in the last fit: a fresh last estimate is then the pretrained part itself, a warm one keeps round 1's fit.
    const leftWith = (freshLast: boolean) => {
      const r = estimateDevice(base, [batch], invert, { specs: [{ rank: 4, targets: ['q', 'v'] }], rounds: 2, steps: 60, finalSteps: 0, lr: 2e-2, freshLast });
      try {
        assert.ok(r.estimate, 'drifted traffic must be adapted to');
        return { fromBase: relDrift(base, r.estimate.device, seqs), fromVictim: relDrift(victim.device, r.estimate.device, seqs) };
      } finally {
        r.estimate?.dispose();
      }
    };
    const fresh = leftWith(true), warm = leftWith(false);
    assert.ok(fresh.fromBase < 1e-5, `a fresh last estimate with no steps is the pretrained part (moved ${fresh.fromBase})`);
    assert.ok(warm.fromBase > 0.05, `a warm last estimate keeps round 1's fit (moved ${warm.fromBase})`);
    assert.ok(warm.fromVictim < fresh.fromVictim, `round 1's fit is nearer the victim (${warm.fromVictim} against ${fresh.fromVictim})`);
  } finally {
    src.dispose();
    victim.dispose();
    t.dispose();
  }
  assert.equal(liveTensors(), live0, 'estimation leaked tensors');
});

test('with the whole capture given as wide, the last fit and the final inversion cover every window', () => {
  const live0 = liveTensors();
  const { t, base, victim, seqs, src } = driftedCapture();
  const batch = [...src.batches(64)][0]!;
  const sample = sampleWindows([batch], 8);
  try {
    const calls: [number, boolean, boolean, number | null][] = [];
    const inverters = { sample: exhaustive(t, sample.batches[0]!), wide: exhaustive(t, batch) };
    // Each inversion's reconstructions and the mask they go with, to recount what the rounds report as changed.
    const seen: { ids: number[]; mask: number[] }[] = [];
    const r = estimateDevice(base, sample.batches, (d, round, final, wide, prev) => {
      calls.push([round, final, wide, prev ? prev[0]!.size(0) : null]);
      const out = (wide ? inverters.wide : inverters.sample)(d);
      seen.push({ ids: out[0]!.toNumbers(), mask: (wide ? batch : sample.batches[0]!).attentionMask.toNumbers() });
      return out;
    }, {
      specs: [{ rank: 4, targets: ['q', 'v'] }], rounds: 3, maxRounds: 0, steps: 60, refineSteps: 40, finalSteps: 80, lr: 2e-2, keepIds: true, wide: [batch],
    });
    try {
      assert.deepEqual(calls.map((c) => c.slice(0, 3)), [[0, false, false], [1, false, false], [2, false, true], [3, true, true]], 'the inversion before the last fit and the final one cover the wide set');
      assert.deepEqual(calls.map((c) => c[3]), [null, 8, null, 24], 'each inversion starts from the previous reconstructions of the same windows');
      assert.deepEqual(r.rounds.map((x) => x.invertWindows), [8, 24, 24], 'each round reports the windows its inversion covered (what the bench counts as a fixed or a per-window cost)');
      const share = (a: { ids: number[]; mask: number[] }, b: { ids: number[] }) => {
        const real = a.mask.map((m, i) => (m > 0 ? i : -1)).filter((i) => i >= 0);
        return real.filter((i) => a.ids[i] !== b.ids[i]).length / real.length;
      };
      assert.deepEqual(r.rounds.map((x) => x.changed), [share(seen[1]!, seen[0]!), undefined, share(seen[3]!, seen[2]!)], 'a round reports the share of positions its inversion changed, when it re-inverted the windows the fit learned from');
      assert.ok(r.rounds[0]!.changed! > 0, 'the first fit changes some reconstructions of drifted traffic');
      assert.equal(r.ids![0]!.size(0), 24, 'the kept reconstructions are every window\'s');
      assert.equal(r.rounds.at(-1)!.confident > 0, true);
      const drift = relDrift(victim.device, base, seqs);
      const left = relDrift(victim.device, r.estimate!.device, seqs);
      assert.ok(left < 0.3 * drift, `estimate leaves ${left.toFixed(3)} of drift ${drift.toFixed(3)}`);
    } finally {
      r.estimate?.dispose();
      r.ids?.forEach((x) => x.dispose());
    }
  } finally {
    releaseSample(sample);
    src.dispose();
    victim.dispose();
    t.dispose();
  }
  assert.equal(liveTensors(), live0, 'estimation leaked tensors');
});

test('the alternation gets more rounds, up to maxRounds, while a refit still changes many of the sample\'s tokens', () => {
  const live0 = liveTensors();
  const { t, base, victim, src } = driftedCapture();
  try {
    const batch = [...src.batches(64)][0]!;
    const [B, T] = batch.attentionMask.shape as [number, number];
    const V = t.tokenizer.vocabSize;
    // Reconstructions that change every token from one inversion to the next (unsettled), or never (settled).
    const run = (settled: boolean, maxRounds: number) => {
      const calls: [number, boolean][] = [];
      const r = estimateDevice(base, [batch], (_d, round, final) => {
        calls.push([round, final]);
        const tok = settled ? 5 : round === 0 ? V - 1 : 5 + (round % 2);
        return [keep(tidy(() => zeros([B, T], { dtype: 'int64' }).add(tok).long()))];
      }, { specs: [{ rank: 4, targets: ['q', 'v'] }], rounds: 3, maxRounds, settleBelow: 0.02, steps: 2, refineSteps: 2, finalSteps: 2, lr: 2e-2 });
      r.estimate?.dispose();
      return { calls, changed: r.rounds.map((x) => x.changed) };
    };
    const unsettled = run(false, 5);
    assert.deepEqual(unsettled.calls, [[0, false], [1, false], [2, false], [3, false], [4, false], [5, true]], 'two more refits on the sample before the last fit, then no more');
    assert.deepEqual(unsettled.changed.slice(0, 4), [1, 1, 1, 1], 'each refit changed every token');
    assert.deepEqual(run(true, 5).calls, [[0, false], [1, false], [2, false], [3, true]], 'a settled alternation keeps its rounds');
    assert.deepEqual(run(false, 0).calls, [[0, false], [1, false], [2, false], [3, true]], 'maxRounds below rounds: no more');
  } finally {
    src.dispose();
    victim.dispose();
    t.dispose();
  }
  assert.equal(liveTensors(), live0, 'estimation leaked tensors');
});

test('clean traffic is left alone (no estimate, no cost)', () => {
  const t = tiny(52);
  const base = t.knowledge(2).device;
  const src = simulateCapture(base, t.tokenizer, sentences(16, 22), { addBos: true, maxTokens: 24, batchSize: 64 });
  try {
    const batch = [...src.batches(64)][0]!;
    const r = estimateDevice(base, [batch], exhaustive(t, batch), { rounds: 3 });
    assert.equal(r.estimate, null);
    assert.equal(r.rounds.length, 0);
  } finally {
    src.dispose();
    t.dispose();
  }
});

test('RevertLM with adapter estimation inverts drifted traffic better than without', async () => {
  // A drift the pretrained part cannot absorb by accepting within a few σ (at 0.2 the unadapted repair already reaches 0.91).
  const t = tiny(53);
  const knowledge = t.knowledge(2);
  const victim = drifted(knowledge.device, 0.3, 4);
  const texts = sentences(40, 23);
  // The session announced the adapters' shape: estimation fits that one, not the search.
  const src = withAnnouncedAdapters(simulateCapture(victim.device, t.tokenizer, texts, { addBos: true, maxTokens: 20, batchSize: 64 }), [{ rank: 4, targets: ['q', 'v'] }]);
  const net = { d: 48, layers: 1, heads: 4, ff: 96, dropout: 0 };
  const config = { projector: net, generator: { ...net, memLayers: 0 }, beam: 2, lambdas: [0] };
  const adaptation = { rounds: 3, steps: 60, refineSteps: 40, finalSteps: 80, lr: 2e-2 };
  const acc: Record<string, number> = {};
  // In batches as invertAll reads them (32 windows): the repair calibrates σ per batch.
  const invertEach = (a: Attack) => {
    const out: number[][] = [];
    for (const b of src.batches(32)) out.push(...a.invert(b).ids);
    return out;
  };
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-adapt-'));
  try {
    const truth = texts.map((s) => t.tokenizer.encode(s, { addBos: true }).slice(0, 20));
    for (const name of ['revertlm', 'revertlm-noadapt'] as const) {
      const a = createAttack(name, knowledge, name === 'revertlm' ? { ...config, adaptation } : config);
      try {
        // The ablation differs only at inference: it loads the attacker trained once.
        if (name === 'revertlm') {
          await a.fit({ texts: sentences(300, 24) }, { budget: { examples: 300, steps: 140, batchSize: 16, maxTokens: 20 }, seed: 1 });
          a.save(dir);
        } else a.load(dir);
        const report = await a.adapt!(src);
        if (name === 'revertlm-noadapt') assert.equal(report.rounds, 0);
        else assert.ok(report.rounds > 0 && report.mismatchAfter! < report.mismatchBefore!, JSON.stringify(report));
        const ids = invertEach(a);
        if (name === 'revertlm') {
          // invertAll reuses the estimation's work (estimated on a sample of 24 of the 40 windows
          // here, then every window inverted once): the same as adapting, then inverting every batch,
          // except that its final inversion also starts from the last round's reconstructions, so a
          // window may differ — only where its reconstruction re-encodes at least as close.
          assert.equal((report.details as { sampleWindows: number }).sampleWindows, 24);
          const all = await a.invertAll!(src);
          const differ = ids.map((_, i) => i).filter((i) => JSON.stringify(all.inversion.ids[i]) !== JSON.stringify(ids[i]));
          assert.ok(differ.length <= 2, `invertAll differs from adapt + invert at windows ${differ.join(', ')}`);
          const closer = windowDistances(a.deviceEstimate!(), src, all.inversion.ids);
          const each = windowDistances(a.deviceEstimate!(), src, ids);
          for (const i of differ) assert.ok(closer[i]! <= each[i]! + 1e-6, `window ${i}: invertAll ${closer[i]} against ${each[i]}`);
          assert.equal(all.report.rounds, report.rounds);
          assert.ok(all.report.mismatchAfter! < all.report.mismatchBefore!, JSON.stringify(all.report));
          // With every window in the sample, the last round's reconstructions are the inversion.
          const whole = createAttack(name, knowledge, { ...config, adaptation: { ...adaptation, sampleWindows: 0 } });
          try {
            whole.load(dir);
            const r = await whole.adapt!(src);
            assert.equal((r.details as { sampleWindows: number }).sampleWindows, 40);
            const again = invertEach(whole);
            assert.deepEqual((await whole.invertAll!(src)).inversion.ids, again);
          } finally {
            whole.dispose();
          }
        }
        let right = 0, all = 0;
        ids.forEach((r, i) => r.forEach((x, j) => ((right += x === truth[i]![j] ? 1 : 0), all++)));
        acc[name] = right / all;
      } finally {
        a.dispose();
      }
    }
    if (process.env.REVERTLM_TEST_VERBOSE) console.error(acc);
    assert.ok(acc.revertlm! > acc['revertlm-noadapt']! + 0.05 && acc.revertlm! > 0.85, JSON.stringify(acc));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    src.dispose();
    victim.dispose();
    t.dispose();
  }
});

test('clean traffic is left alone even when most of the first inversion is wrong', () => {
  const t = tiny(54);
  const base = t.knowledge(2).device;
  const src = simulateCapture(base, t.tokenizer, sentences(16, 24), { addBos: true, maxTokens: 24, batchSize: 64 });
  const V = t.tokenizer.vocabSize;
  try {
    const batch = [...src.batches(64)][0]!;
    const right = exhaustive(t, batch);
    // Three windows in four wrong from position 2 on: the median position is wrong, the best-explained ones are right.
    const weak = (device: DevicePart) => right(device).map((ids) => {
      const rows = (ids.toNumbers() as number[]);
      const [B, T] = ids.shape as [number, number];
      ids.dispose();
      for (let b = 0; b < B; b++) if (b % 4 !== 0) for (let j = 2; j < T; j++) rows[b * T + j] = (rows[b * T + j]! + 1 + (j % 3)) % V;
      return keep(tensor(rows, [B, T], { dtype: 'int64' }));
    });
    const r = estimateDevice(base, [batch], weak, { rounds: 2, steps: 5, refineSteps: 5, finalSteps: 5 });
    assert.ok(r.medianBefore > 2e-3, `the test needs a wrong median position (median mismatch ${r.medianBefore})`);
    assert.equal(r.estimate, null, 'an estimate fitted to wrong reconstructions of undrifted traffic can only add drift');
    assert.equal(r.rounds.length, 0);
  } finally {
    src.dispose();
    t.dispose();
  }
});

/** Each window's re-encoding distance with `device`, in capture order (batches of 32, as invertAll reads them). */
function windowDistances(device: DevicePart, src: { batches(n: number): Iterable<InterceptedBatch> }, rows: readonly number[][]): number[] {
  const out: number[] = [];
  for (const b of src.batches(32)) {
    const [B, T] = b.attentionMask.shape as [number, number];
    const batchRows = rows.slice(out.length, out.length + B);
    out.push(...tidy(() => reencodeDistance(device, padBatch(batchRows, 0, T).ids, b.attentionMask, b.hidden, { skipFirst: true, l2Weight: 1 })));
  }
  return out;
}

// KV-cached left-to-right re-encoding: the same distances as re-running every prefix, and the same
// repaired text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, noGrad, randn, full, manualSeed, liveTensors, ids as idsTensor } from '../../src/torch/index.js';
import { padBatch } from '../../src/data/windows.js';
import { CachedPrefixEncoder, FullPrefixEncoder } from '../../src/attacks/prefix_encoder.js';
import { repair } from '../../src/attacks/revertlm/repair.js';
import { mulberry32 } from '../../src/util/prng.js';
import { observedBatch, sentences, tiny } from './helpers.js';

test('cached re-encoding scores candidates exactly as re-running their whole prefix', () => {
  const live0 = liveTensors();
  const t = tiny(31);
  try {
    const { device, V, seqs, ids, mask, obs, B, T, truth } = observedBatch(t, 2, 5, 8);
    const rand = mulberry32(5);
    const cached = new CachedPrefixEncoder(device, obs, mask, { l2Weight: 1, chunk: 7 });
    const full = new FullPrefixEncoder(device, obs, mask, { l2Weight: 1 });
    let maxDiff = 0;
    try {
      for (let p = 0; p < T; p++) {
        // Every window tries its true token and three random ones (repeats allowed).
        const rows = Array.from({ length: B * 4 }, (_, i) => i % B);
        const toks = rows.map((b, i) => (i < B ? truth[b * T + p]! : Math.floor(rand() * V)));
        const a = cached.score(rows, toks);
        const f = full.score(rows, toks);
        a.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - f[i]!))));
        // On the true prefix the true token re-encodes to (nearly) zero wherever the window is real.
        for (let b = 0; b < B; b++) if (p <= 2 && p < seqs[b]!.length) assert.ok(a[b]! < 1e-5, `true token at ${p}: ${a[b]}`);
        // Advance along a prefix that is wrong at position 2, to exercise non-matching caches.
        const adv = Array.from({ length: B }, (_, b) => (p === 2 ? (truth[b * T + p]! + 1) % V : truth[b * T + p]!));
        cached.advance(adv);
        full.advance(adv);
      }
    } finally {
      cached.dispose();
      full.dispose();
      for (const x of [ids, mask, obs]) x.dispose();
    }
    assert.ok(maxDiff < 1e-5, `cached vs full distance differ by ${maxDiff}`);
  } finally {
    t.dispose();
  }
  assert.equal(liveTensors(), live0, 'encoders leaked tensors');
});

test('advanceFrom: a row may continue another row\'s prefix (beam search), scored as if it had been built that way', () => {
  const live0 = liveTensors();
  const t = tiny(33);
  try {
    const { device, V, ids, mask, obs, B, T, truth } = observedBatch(t, 2, 4, 8);
    const tok = (b: number, p: number) => truth[b * T + p]!;
    const parents = [1, 1, 3, 0];
    const beam = new CachedPrefixEncoder(device, obs, mask, { l2Weight: 1 });
    // The reference builds row b's prefix directly: window parents[b]'s first two tokens, then row b's third.
    const ref = new FullPrefixEncoder(device, obs, mask, { l2Weight: 1 });
    try {
      const all = Array.from({ length: B }, (_, b) => b);
      for (let p = 0; p < 2; p++) {
        beam.score(all, all.map((b) => tok(b, p)));
        beam.advance(all.map((b) => tok(b, p)));
        ref.advance(all.map((b) => tok(parents[b]!, p)));
      }
      const third = all.map((b) => (tok(b, 2) + b) % V);
      // Scored candidates (row parents[b], token third[b]) for some rows only: the rest are run afresh.
      beam.score([1, 3], [third[0]!, third[2]!]);
      beam.advanceFrom(parents, third);
      ref.advance(third);
      const cands = all.flatMap((b) => [tok(b, 3), (tok(b, 3) + 5) % V]);
      const rows = all.flatMap((b) => [b, b]);
      const a = beam.score(rows, cands);
      const f = ref.score(rows, cands);
      a.forEach((x, i) => assert.ok(Math.abs(x - f[i]!) < 1e-5, `row ${rows[i]}: ${x} vs ${f[i]}`));
      assert.throws(() => beam.advanceFrom([0], [1, 2]), /differ in length/);
    } finally {
      beam.dispose();
      ref.dispose();
      for (const x of [ids, mask, obs]) x.dispose();
    }
  } finally {
    t.dispose();
  }
  assert.equal(liveTensors(), live0, 'encoders leaked tensors');
});

test('repair gives the same text with the cached encoder and with full re-encoding', () => {
  const t = tiny(32);
  try {
    const { device } = t.knowledge(2);
    const V = t.tokenizer.vocabSize;
    const seqs = sentences(6, 9).map((s) => t.tokenizer.encode(s, { addBos: true }));
    const { ids, mask } = padBatch(seqs);
    const obs = noGrad(() => device.forward(ids, { attentionMask: mask }).hidden);
    const [B, T] = ids.shape as [number, number];
    const truth = ids.toNumbers();
    // A guess with every third token wrong, and noisy proposals that often rank the truth near the top.
    const guess = idsTensor(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, p) => (p % 3 === 1 ? (truth[b * T + p]! + 3) % V : truth[b * T + p]!))));
    manualSeed(3);
    const scores = noGrad(() => randn([B, T, V]).scatter(2, ids.unsqueeze(-1), full([B, T, 1], 1.5)));
    const proposals = () => ({ sources: [scores.clone()], logProb: F.logSoftmax(scores, -1) });
    const base = { topK: 3, escalateK: 6, maxPasses: 2, tolerance: 1e-4, acceptScale: 1, priorWeight: 1, l2Weight: 1, fixFirst: true, proposals };
    const a = repair(device, guess, obs, mask, base);
    const f = repair(device, guess, obs, mask, { ...base, encoder: (d, o, m, opt) => new FullPrefixEncoder(d, o, m, opt) });
    assert.deepEqual(a.toNumbers(), f.toNumbers());
    assert.notDeepEqual(a.toNumbers(), guess.toNumbers(), 'repair changed nothing: the test exercises nothing');
    for (const x of [ids, mask, obs, guess, scores, a, f]) x.dispose();
  } finally {
    t.dispose();
  }
});

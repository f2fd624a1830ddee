// The white-box pieces: re-encoding distances, causal repair, data windows, the registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ids as idsTensor, noGrad, tensor, zeros } from '../../src/torch/index.js';
import {
  ATTACK_NAMES, createAttack, positionalPart, reencodeDistance, tokenWindows,
} from '../../src/attacks/index.js';
import { padBatch } from '../../src/data/windows.js';
import { repair } from '../../src/attacks/revertlm/repair.js';
import { sentences, tiny, wordTokenizer } from './helpers.js';

test('re-encoding distance is ~0 for the true tokens and clearly positive for others', () => {
  const t = tiny(21);
  try {
    const { device } = t.knowledge(2);
    const seqs = sentences(4, 1).map((s) => t.tokenizer.encode(s, { addBos: true }));
    const { ids, mask } = padBatch(seqs);
    const obs = noGrad(() => device.forward(ids, { attentionMask: mask }).hidden);
    // One token changed at position 3 of every sequence.
    const wrong = padBatch(seqs.map((s) => s.map((x, i) => (i === 3 ? (x === 5 ? 6 : 5) : x)))).ids;
    const same = reencodeDistance(device, ids, mask, obs, { skipFirst: true });
    const diff = reencodeDistance(device, wrong, mask, obs, { skipFirst: true });
    for (let b = 0; b < seqs.length; b++) {
      assert.ok(same[b]! < 1e-5, `true tokens: ${same[b]}`);
      assert.ok(diff[b]! > 1e-3 && diff[b]! > 100 * same[b]!, `perturbed: ${diff[b]} vs ${same[b]}`);
    }
    for (const x of [ids, mask, obs, wrong]) x.dispose();
  } finally {
    t.dispose();
  }
});

test('causal repair recovers every token from a wrong guess when the truth is among the proposals', () => {
  const t = tiny(22);
  try {
    const { device } = t.knowledge(2);
    const V = t.tokenizer.vocabSize;
    const seqs = sentences(5, 2).map((s) => t.tokenizer.encode(s, { addBos: true }));
    const { ids, mask } = padBatch(seqs);
    const obs = noGrad(() => device.forward(ids, { attentionMask: mask }).hidden);
    const [B, T] = ids.shape as [number, number];
    const guess = idsTensor(Array.from({ length: B }, () => [1, ...new Array<number>(T - 1).fill(4)]));
    // Uninformative proposals (all-zero scores): only the re-encoding check can find the tokens.
    const fixed = repair(device, guess, obs, mask, {
      topK: 4, escalateK: V, maxPasses: 1, tolerance: 1e-4, acceptScale: 0, priorWeight: 0, l2Weight: 1, fixFirst: true,
      proposals: () => ({ sources: [zeros([B, T, V])] }),
    });
    const got = fixed.toNumbers();
    seqs.forEach((s, b) => assert.deepEqual(got.slice(b * T, b * T + s.length), s));
    for (const x of [ids, mask, obs, guess, fixed]) x.dispose();
  } finally {
    t.dispose();
  }
});

test('the wide round finds tokens every source ranks last when the combined log-probability ranks them', () => {
  const t = tiny(25);
  try {
    const { device } = t.knowledge(2);
    const V = t.tokenizer.vocabSize;
    const seqs = sentences(4, 5).map((s) => t.tokenizer.encode(s, { addBos: true }));
    const { ids, mask } = padBatch(seqs);
    const obs = noGrad(() => device.forward(ids, { attentionMask: mask }).hidden);
    const [B, T] = ids.shape as [number, number];
    const truth = ids.toNumbers();
    const perToken = (f: (isTrue: boolean) => number) =>
      tensor(Array.from({ length: B * T * V }, (_, i) => f(i % V === truth[Math.floor(i / V)])), [B, T, V]);
    const sources = perToken((isTrue) => (isTrue ? -1 : 0));
    const logProb = perToken((isTrue) => (isTrue ? 0 : -10));
    const guess = idsTensor(Array.from({ length: B }, () => [1, ...new Array<number>(T - 1).fill(4)]));
    const run = (wideK: number) => {
      const out = repair(device, guess, obs, mask, {
        topK: 2, escalateK: 4, maxPasses: 1, tolerance: 1e-4, acceptScale: 0, priorWeight: 0, l2Weight: 1, fixFirst: true, wideK,
        proposals: () => ({ sources: [sources], logProb }),
      });
      const got = out.toNumbers();
      out.dispose();
      return seqs.filter((s, b) => s.every((x, j) => got[b * T + j] === x)).length;
    };
    assert.equal(run(0), seqs.filter((s) => s.slice(1).every((x) => x === 4)).length, 'without the wide round only windows the guess already had are right');
    assert.equal(run(3), seqs.length, 'the wide round recovers every window');
    for (const x of [ids, mask, obs, guess, sources, logProb]) x.dispose();
  } finally {
    t.dispose();
  }
});

test('a Llama device part has no additive position embedding', () => {
  const t = tiny(23);
  try {
    const p = positionalPart(t.knowledge(1).device, 6);
    assert.deepEqual(p.shape, [1, 6, t.model.config.dModel]);
    assert.ok(p.abs().max().item() === 0);
    p.dispose();
  } finally {
    t.dispose();
  }
});

test('auxiliary windows carry BOS, respect maxTokens and are seeded', () => {
  const tok = wordTokenizer();
  const texts = sentences(30, 3);
  const w = tokenWindows(texts, tok, { maxTokens: 6, addBos: true, minTokens: 2 });
  assert.ok(w.length > texts.length, 'long texts are cut into several windows');
  for (const s of w) {
    assert.equal(s[0], 1);
    assert.ok(s.length <= 6 && s.length >= 2);
  }
  const a = tokenWindows(texts, tok, { maxTokens: 6, addBos: true, limit: 10, seed: 4 });
  const b = tokenWindows(texts, tok, { maxTokens: 6, addBos: true, limit: 10, seed: 4 });
  assert.equal(a.length, 10);
  assert.deepEqual(a, b);
});

test('the registry has every attack and ablation, and checks what each needs', () => {
  for (const n of ['sip', 'nn', 'opt', 'bisr', 'revertlm', 'revertlm-nn', 'revertlm-noprior', 'revertlm-noreencode', 'revertlm-oracle']) {
    assert.ok((ATTACK_NAMES as string[]).includes(n), n);
  }
  const t = tiny(24);
  try {
    const { device, tokenizer } = t.knowledge(1);
    assert.throws(() => createAttack('revertlm', { device, tokenizer }), /needs the pretrained model/);
    createAttack('revertlm-noprior', { device, tokenizer }).dispose();
  } finally {
    t.dispose();
  }
});

// Generation: KV cache vs recomputation, through a split, sampling options; padded batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ids, noGrad, tidy, liveTensors } from '../../src/torch/index.js';
import {
  generateIds, modelStepper, splitStepper, splitModel, sampleToken, ModelError, type Transformer,
} from '../../src/models/index.js';
import { mulberry32 } from '../../src/util/prng.js';
import { FAMILIES, tinyConfig, testModel, assertAllClose, tokenIds } from './helpers.js';

for (const family of FAMILIES) {
  test(`${family}: KV-cache generation equals generation without a cache`, async () => {
    const before = liveTensors();
    const model = testModel(tinyConfig(family));
    try {
      const prompt = tokenIds(5, model.config.vocabSize, 9);
      const o = { maxNewTokens: 20, stopAtEos: false };
      const withCache = await generateIds(modelStepper(model), prompt, { ...o, greedy: true });
      const without = await generateIds(modelStepper(model), prompt, { ...o, greedy: true, useCache: false });
      assert.equal(withCache.length, 20);
      assert.deepEqual(withCache, without);
      assert.ok(new Set(withCache).size > 1, 'the random model does not just repeat one token');
      const sampled = await generateIds(modelStepper(model), prompt, { ...o, temperature: 1.5, seed: 4 });
      assert.deepEqual(await generateIds(modelStepper(model), prompt, { ...o, temperature: 1.5, seed: 4, useCache: false }), sampled);
      // The cached logits themselves agree with a full recomputation.
      tidy(() => noGrad(() => {
        const seq = [...prompt, ...withCache];
        const full = model.forward(ids([seq])).logits;
        const cache = model.newCache();
        const a = model.forward(ids([seq.slice(0, 7)]), { cache }).logits;
        const b = model.forward(ids([seq.slice(7, 8)]), { cache }).logits;
        const c = model.forward(ids([seq.slice(8)]), { cache }).logits;
        assert.equal(cache.length, seq.length);
        assertAllClose(a, full.narrow(1, 0, 7), 1e-5, 'cached prefix');
        assertAllClose(b, full.narrow(1, 7, 1), 1e-5, 'one cached step');
        assertAllClose(c, full.narrow(1, 8, seq.length - 8), 1e-5, 'several cached steps');
        cache.dispose();
      }));
    } finally {
      model.dispose();
    }
    assert.equal(liveTensors(), before, 'no tensor leaked');
  });

  test(`${family}: generation through a split (and a U-shaped split) equals the full model`, async () => {
    const model = testModel(tinyConfig(family));
    try {
      const prompt = tokenIds(4, model.config.vocabSize, 3);
      const o = { maxNewTokens: 12, stopAtEos: false, temperature: 0.9, topK: 10, seed: 11 };
      const full = await generateIds(modelStepper(model), prompt, o);
      const { device, server } = splitModel(model, 1);
      assert.deepEqual(await generateIds(splitStepper(device, server), prompt, o), full);
      const u = splitModel(model, 1, 2);
      assert.deepEqual(await generateIds(splitStepper(u.device, u.server, u.deviceTail), prompt, o), full);
      // An async (e.g. networked) step plugs into the same loop.
      const inner = splitStepper(device, server);
      const remote = { ...inner, step: async (...a: Parameters<typeof inner.step>) => { await new Promise((r) => setImmediate(r)); return inner.step(...a); } };
      assert.deepEqual(await generateIds(remote, prompt, o), full);
    } finally {
      model.dispose();
    }
  });
}

test('generation stops at EOS and at maxPositions; bad options are rejected', async () => {
  const model = testModel(tinyConfig('gpt2', { maxPositions: 12 }));
  try {
    const prompt = [5, 6, 7];
    const greedy = await generateIds(modelStepper(model), prompt, { greedy: true, maxNewTokens: 50, stopAtEos: false });
    assert.equal(greedy.length, 12 - 3, 'stops when the context is full');
    const eos = greedy[2]!;
    const stopped = await generateIds(modelStepper(model), prompt, { greedy: true, maxNewTokens: 50, eosTokenId: eos });
    assert.deepEqual(stopped, greedy.slice(0, greedy.indexOf(eos) + 1));
    await assert.rejects(generateIds(modelStepper(model), [], {}), ModelError);
    await assert.rejects(generateIds(modelStepper(model), [1], { topP: 0 }), /topP/);
    await assert.rejects(generateIds(modelStepper(model), [999], {}), /token ids/);
  } finally {
    model.dispose();
  }
});

test('sampling: greedy is argmax, top-k 1 is greedy, top-p keeps the smallest sufficient set, seeds reproduce', () => {
  const logits = Float32Array.from([0.1, 2.0, -1, 1.9, 0.5]);
  const seq = (s: number) => mulberry32(s);
  assert.equal(sampleToken(logits, { greedy: true }, seq(1)), 1);
  assert.equal(sampleToken(logits, { temperature: 0 }, seq(1)), 1);
  for (let s = 1; s < 30; s++) assert.equal(sampleToken(logits, { topK: 1 }, seq(s)), 1);
  const seen = new Set<number>();
  for (let s = 1; s < 200; s++) seen.add(sampleToken(logits, { topP: 0.6 }, seq(s)));
  assert.deepEqual([...seen].sort(), [1, 3], 'p(1) + p(3) ≈ 0.63 ≥ 0.6 and p(1) < 0.6');
  const all = new Set<number>();
  for (let s = 1; s < 400; s++) all.add(sampleToken(logits, { temperature: 2 }, seq(s)));
  assert.equal(all.size, 5);
});

function paddedCheck(model: Transformer): void {
  const V = model.config.vocabSize;
  const lens = [7, 4, 1];
  const rows = lens.map((n, i) => tokenIds(n, V, 20 + i));
  const T = Math.max(...lens);
  const pad = 0;
  tidy(() => noGrad(() => {
    const x = ids(rows.map((r) => [...r, ...Array<number>(T - r.length).fill(pad)]));
    const mask = ids(rows.map((r) => [...r.map(() => 1), ...Array<number>(T - r.length).fill(0)]));
    const { logits, hiddenStates } = model.forward(x, { attentionMask: mask, outputHiddenStates: true });
    rows.forEach((r, i) => {
      const single = model.forward(ids([r]), { outputHiddenStates: true });
      assertAllClose(logits.select(0, i).narrow(0, 0, r.length), single.logits.select(0, 0), 1e-5, `row ${i} logits`);
      hiddenStates!.forEach((h, l) => assertAllClose(h.select(0, i).narrow(0, 0, r.length), single.hiddenStates![l]!.select(0, 0), 1e-5, `row ${i} stream ${l}`));
    });
    // With right padding, causal attention alone already hides the pads from real queries, so also
    // check that the mask is applied at all: hiding a real key changes the later outputs.
    const holes = ids(rows.map((r) => [...r.map((_, t) => (t === 0 ? 0 : 1)), ...Array<number>(T - r.length).fill(0)]));
    const masked = model.forward(x, { attentionMask: holes }).logits;
    assert.ok(!masked.select(0, 0).narrow(0, 1, 6).allclose(logits.select(0, 0).narrow(0, 1, 6), 1e-4, 1e-4), 'a masked key changes the output');
  }));
}

for (const family of FAMILIES) {
  test(`${family}: a right-padded batch equals per-sample forwards on the real positions`, () => {
    const model = testModel(tinyConfig(family));
    try {
      paddedCheck(model);
    } finally {
      model.dispose();
    }
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ids, liveTensors, noGrad, tidy } from '../../src/torch/index.js';
import { collectPairs } from '../../src/leakage/index.js';
import { ToyLM, ToyTokenizer, TOY_TEXTS, toyConfig } from './helpers.js';

test('collectPairs gathers X, E and H_0..H_L aligned with the model, without special tokens or repeated contexts', async () => {
  const before = liveTensors();
  const cfg = toyConfig();
  const model = new ToyLM(cfg, 1);
  const tok = new ToyTokenizer(cfg.vocabSize);
  const texts = ['abc', 'abc', 'abcd', 'xyz'];
  const p = await collectPairs(model, tok, texts);
  try {
    // 'abc' → a,b,c; the repeated 'abc' adds nothing; 'abcd' adds only d; 'xyz' adds three.
    assert.equal(p.tokenIds.length, 7);
    assert.equal(p.texts, 3);
    assert.deepEqual([...p.tokenIds], [...tok.encode('abc'), ...tok.encode('d'), ...tok.encode('xyz')]);
    assert.ok(![...p.tokenIds].includes(tok.bosTokenId));
    assert.equal(p.hidden.length, cfg.nLayers + 1);
    for (const h of p.hidden) assert.deepEqual(h.shape, [7, cfg.dModel]);
    assert.deepEqual(p.embeddings.shape, [7, cfg.dModel]);
    assert.equal(p.vocabSize, cfg.vocabSize);
    tidy(() => {
      // H_0 = embed(ids) = E for this model; H_l row of 'd' = the model's state at position 4 of '<s>abcd'.
      assert.ok(p.hidden[0]!.allclose(p.embeddings));
      const out = noGrad(() => model.forward(ids([tok.encode('abcd', { addBos: true })]), { outputHiddenStates: true }));
      for (let l = 1; l <= cfg.nLayers; l++) {
        assert.ok(p.hidden[l]!.select(0, 3).allclose(out.hiddenStates![l - 1]!.select(0, 0).select(0, 4), 1e-5, 1e-6), `layer ${l}`);
      }
      // Deeper layers differ from the embeddings (the blocks did something).
      assert.ok(!p.hidden[cfg.nLayers]!.allclose(p.embeddings, 1e-3, 1e-3));
    });
  } finally {
    p.dispose();
  }
  model.dispose();
  assert.equal(liveTensors(), before, 'no tensors leak');
});

test('collectPairs: token cap, seeded text order, and both hidden-state conventions', async () => {
  const cfg = toyConfig();
  const tok = new ToyTokenizer(cfg.vocabSize);
  const contract = new ToyLM(cfg, 2);
  const hf = new ToyLM(cfg, 2, true);
  const a = await collectPairs(contract, tok, TOY_TEXTS, { maxTokens: 50, seed: 3 });
  const b = await collectPairs(hf, tok, TOY_TEXTS, { maxTokens: 50, seed: 3 });
  const c = await collectPairs(contract, tok, TOY_TEXTS, { maxTokens: 50, seed: 4 });
  try {
    assert.equal(a.tokenIds.length, 50);
    assert.deepEqual(a.tokenIds, b.tokenIds);
    for (let l = 0; l <= cfg.nLayers; l++) assert.ok(a.hidden[l]!.allclose(b.hidden[l]!), `layer ${l}: L and L+1 conventions agree`);
    assert.notDeepEqual([...a.tokenIds], [...c.tokenIds], 'another seed visits texts in another order');
  } finally {
    a.dispose();
    b.dispose();
    c.dispose();
    contract.dispose();
    hf.dispose();
  }
  await assert.rejects(collectPairs(new ToyLM(cfg, 1), tok, ['', '']), /no tokens/);
});

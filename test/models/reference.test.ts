// Parity with independent float64 reference forward passes (../shared/models/*/reference.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { F, ids, noGrad, tidy, liveTensors } from '../../src/torch/index.js';
import { loadModel, loadTokenizer, generate, type Transformer } from '../../src/models/index.js';
import { sharedPath, SHARED_MISSING } from '../helpers/shared.js';

interface RefCase {
  text?: string;
  ids: number[];
  mean_nll: number;
  argmax: number[];
  logits_last_first8: number[];
  hidden_norms: number[][];
}
interface Reference {
  cases: RefCase[];
  greedy_from_bos_60_tokens?: string;
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

function checkCase(model: Transformer, c: RefCase, where: string): void {
  tidy(() => noGrad(() => {
    const T = c.ids.length;
    const { logits, hiddenStates } = model.forward(ids([c.ids]), { outputHiddenStates: true });
    assert.deepEqual(logits.shape, [1, T, model.config.vocabSize]);
    assert.deepEqual(logits.argmax(-1).toNumbers(), c.argmax, `${where}: per-position argmax`);
    const lp = F.logSoftmax(logits.select(0, 0).narrow(0, 0, T - 1), -1);
    const nll = F.nllLoss(lp, ids(c.ids.slice(1))).item();
    assert.ok(rel(nll, c.mean_nll) < 1e-4, `${where}: mean NLL ${nll} vs ${c.mean_nll}`);
    const first8 = logits.select(1, -1).select(0, 0).narrow(0, 0, 8).toNumbers();
    first8.forEach((v, i) => assert.ok(Math.abs(v - c.logits_last_first8[i]!) < 1e-4 * Math.max(1, Math.abs(c.logits_last_first8[i]!)), `${where}: logit ${i}`));
    assert.equal(hiddenStates!.length, model.config.nLayers + 1);
    assert.equal(c.hidden_norms.length, model.config.nLayers + 1);
    hiddenStates!.forEach((h, l) => {
      h.select(0, 0).norm(2, -1).toNumbers().forEach((v, t) => {
        const want = c.hidden_norms[l]![t]!;
        assert.ok(rel(v, want) < 1e-4, `${where}: hidden norm after ${l} blocks at token ${t}: ${v} vs ${want}`);
      });
    });
  }));
}

function reference(dir: string): Reference {
  return JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference;
}

test('stories260K (Llama): logits, NLL and hidden states match the float64 reference', (t) => {
  const dir = sharedPath('models/stories260K');
  if (!dir) return t.skip(SHARED_MISSING('models/stories260K'));
  const ref = reference(dir);
  const before = liveTensors();
  const model = loadModel(dir);
  try {
    assert.equal(model.config.family, 'llama');
    assert.equal(model.config.nKvHeads, 4);
    ref.cases.forEach((c, i) => checkCase(model, c, `stories260K case ${i}`));
  } finally {
    model.dispose();
  }
  assert.equal(liveTensors(), before, 'no tensor leaked');
});

test('stories260K tokenizer reproduces the reference ids and round-trips', (t) => {
  const dir = sharedPath('models/stories260K');
  if (!dir) return t.skip(SHARED_MISSING('models/stories260K'));
  const tok = loadTokenizer(dir);
  const c = reference(dir).cases.find((x) => x.text !== undefined)!;
  assert.deepEqual(tok.encode(c.text!), c.ids);
  assert.equal(tok.bosTokenId, 1);
  assert.equal(tok.eosTokenId, 2);
  assert.deepEqual(tok.encode(c.text!, { addBos: false }), c.ids.slice(1));
  assert.equal(tok.decode(c.ids, { skipSpecialTokens: true }), c.text);
});

test('stories260K greedy generation from <s> reproduces the reference 60 tokens', async (t) => {
  const dir = sharedPath('models/stories260K');
  if (!dir) return t.skip(SHARED_MISSING('models/stories260K'));
  const ref = reference(dir);
  const model = loadModel(dir);
  try {
    const r = await generate(model, loadTokenizer(dir), '', { greedy: true, maxNewTokens: 60 });
    assert.deepEqual(r.promptIds, [1]);
    assert.equal(r.ids.length, 60);
    assert.equal(r.text, ref.greedy_from_bos_60_tokens);
  } finally {
    model.dispose();
  }
});

test('tiny-gpt2-random (official GPT-2 key names, Conv1D layout): matches the float64 reference', (t) => {
  const dir = sharedPath('models/tiny-gpt2-random');
  if (!dir) return t.skip(SHARED_MISSING('models/tiny-gpt2-random'));
  const model = loadModel(dir);
  try {
    assert.equal(model.config.family, 'gpt2');
    assert.ok(model.head!.tied, 'GPT-2 head is tied to wte');
    reference(dir).cases.forEach((c, i) => checkCase(model, c, `tiny-gpt2 case ${i}`));
  } finally {
    model.dispose();
  }
});

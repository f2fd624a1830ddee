import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { liveTensors } from '../../src/torch/index.js';
import { loadModel, loadTokenizer } from '../../src/models/index.js';
import { mulberry32 } from '../../src/util/prng.js';
import {
  analyzeCapture,
  analyzeLeakage,
  collectPairs,
  formatLeakageTable,
  hiddenStats,
  type AnalyzeOptions,
  type LeakageProgress,
} from '../../src/leakage/index.js';
import { sharedPath, SHARED_MISSING } from '../helpers/shared.js';
import { ToyLM, ToyTokenizer, toyConfig } from './helpers.js';

const WORDS = 'the a cat dog sun rain sat ran fell on in under mat park town old red quiet bright and then'.split(' ');
function sentences(n: number, seed: number): string[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => Array.from({ length: 4 + Math.floor(rand() * 6) }, () => WORDS[Math.floor(rand() * WORDS.length)]!).join(' '));
}

// Small budgets: these tests check the plumbing and determinism, not the estimators' accuracy.
const FAST: AnalyzeOptions = { tokens: 500, components: 8, infonce: { steps: 60, batchSize: 64, hidden: 32 }, probe: { epochs: 20, batchSize: 64 } };

test('analyzeLeakage gives every figure for every layer, deterministically for a seed', async () => {
  const before = liveTensors();
  const cfg = toyConfig();
  const model = new ToyLM(cfg, 1);
  const tok = new ToyTokenizer(cfg.vocabSize);
  const texts = sentences(80, 1);
  const progress: LeakageProgress[] = [];
  const r1 = await analyzeLeakage(model, tok, texts, { ...FAST, seed: 5, name: 'toy', onProgress: (p) => progress.push(p) });
  const r2 = await analyzeLeakage(model, tok, texts, { ...FAST, seed: 5, name: 'toy' });
  assert.deepEqual(r1, r2, 'same seed, same report');
  assert.equal(r1.model, 'toy');
  assert.equal(r1.tokens, 500);
  assert.deepEqual(r1.layers.map((l) => l.layer), [0, 1, 2, 3]);
  for (const l of r1.layers) {
    for (const [k, v] of Object.entries(l)) assert.ok(typeof v === 'number' && Number.isFinite(v), `layer ${l.layer} ${k} = ${v}`);
    assert.ok(l.probe! >= 0 && l.probe! <= r1.h_x, `probe ${l.probe} within [0, H(X)=${r1.h_x}]`);
    assert.ok(l.effective_rank! >= 1 && l.effective_rank! <= cfg.dModel);
    assert.ok(l.sparsity! >= 0 && l.sparsity! <= 1);
  }
  const last = progress.at(-1)!;
  assert.equal(last.stage, 'estimate');
  assert.equal(last.done, last.total);
  assert.equal(last.total, 4 * 7);
  assert.ok(progress.some((p) => p.stage === 'tokens'));

  // A layer's figures do not depend on which other layers were asked for.
  const only2 = await analyzeLeakage(model, tok, texts, { ...FAST, seed: 5, name: 'toy', layers: [2] });
  assert.deepEqual(only2.layers, [r1.layers[2]]);
  // Another seed gives another sample and other figures.
  const r3 = await analyzeLeakage(model, tok, texts, { ...FAST, seed: 6, name: 'toy', estimators: ['ksg', 'probe'] });
  assert.notDeepEqual(r3.layers.map((l) => l.ksg), r1.layers.map((l) => l.ksg));
  assert.equal(r3.layers[0]!.infonce, null, 'estimators not asked for are null');

  const table = formatLeakageTable(r1);
  assert.equal(table.split('\n').length, 3 + 4 + 2);
  assert.match(table, /eff_rank/);
  model.dispose();
  assert.equal(liveTensors(), before, 'no tensors leak');
});

test('analyzeLeakage rejects layers outside 0..L', async () => {
  const cfg = toyConfig();
  const model = new ToyLM(cfg, 1);
  await assert.rejects(analyzeLeakage(model, new ToyTokenizer(cfg.vocabSize), ['abc'], { layers: [4] }), /0\.\.3/);
  model.dispose();
});

test('analyzeCapture: hidden-state statistics only, plus the attacker-model figures at the split point', async () => {
  const cfg = toyConfig();
  const model = new ToyLM(cfg, 1);
  const tok = new ToyTokenizer(cfg.vocabSize);
  const pairs = await collectPairs(model, tok, sentences(40, 2), { maxTokens: 300 });
  try {
    const capture = { splitPoint: 2, hidden: pairs.hidden[2]! };
    const a = await analyzeCapture(capture, { seed: 1, components: 8 });
    assert.equal(a.split_point, 2);
    assert.equal(a.tokens, 300);
    assert.equal(a.attacker, null);
    for (const v of Object.values(a.hidden)) assert.ok(Number.isFinite(v));
    assert.equal(a.hidden.effective_rank, hiddenStats(pairs.hidden[2]!, { estimators: ['effective_rank'] }).effective_rank);

    const b = await analyzeCapture(capture, { seed: 1, components: 8, attacker: { model, tokenizer: tok, texts: sentences(60, 3), options: FAST } });
    assert.deepEqual(b.hidden, a.hidden);
    assert.equal(b.attacker!.layers.length, 1);
    const l = b.attacker!.layers[0]!;
    assert.equal(l.layer, 2);
    assert.ok(l.ksg !== null && l.infonce !== null && l.probe !== null);
    assert.equal(l.entropy, null, 'the attacker part is the token-based figures only');
  } finally {
    pairs.dispose();
    model.dispose();
  }
});

test('stories260K: per-layer table for every layer, deterministic for a seed', async (t) => {
  const dir = sharedPath('models/stories260K');
  const dataFile = sharedPath('data/tinystories_sample.txt');
  if (!dir || !dataFile) return t.skip(SHARED_MISSING('models/stories260K'));
  const model = loadModel(dir);
  const tokenizer = loadTokenizer(dir);
  const loaded = { model, tokenizer, dispose: () => model.dispose() };
  try {
    const texts = readFileSync(dataFile, 'utf8').split('<|endoftext|>').map((s) => s.trim()).filter(Boolean);
    const o: AnalyzeOptions = { ...FAST, tokens: 400, seed: 3, name: 'stories260K' };
    const r1 = await analyzeLeakage(loaded.model, loaded.tokenizer, texts, o);
    const r2 = await analyzeLeakage(loaded.model, loaded.tokenizer, texts, o);
    assert.deepEqual(r1, r2);
    assert.deepEqual(r1.layers.map((l) => l.layer), [0, 1, 2, 3, 4, 5]);
    for (const l of r1.layers) {
      for (const [k, v] of Object.entries(l)) assert.ok(typeof v === 'number' && Number.isFinite(v), `layer ${l.layer} ${k} = ${v}`);
      assert.ok(l.probe! <= r1.h_x);
    }
    t.diagnostic(`\n${formatLeakageTable(r1)}`);
  } finally {
    loaded.dispose();
  }
});


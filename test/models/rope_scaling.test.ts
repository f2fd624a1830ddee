// Llama 3.x `rope_scaling`: the frequencies match transformers' formula (recomputed in PyTorch), the
// config reads and writes it, and a model with it runs the same with and without the KV cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ids, noGrad, tidy, liveTensors } from '../../src/torch/index.js';
import { loadModel, saveModel, parseHfConfig, toHfConfig, ropeInverseFrequencies, ModelError, type RopeScaling } from '../../src/models/index.js';
import { tinyConfig, testModel, withTempDir, assertAllClose, maxAbsDiff } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const LLAMA32: RopeScaling = { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 };

// transformers' _compute_llama3_parameters / linear scaling, tensorised the way it writes them.
const PEER = `
import json, math, sys, torch
a = json.loads(sys.stdin.read())
inv = 1.0 / (a["theta"] ** (torch.arange(0, a["dim"], 2, dtype=torch.int64).double() / a["dim"]))
s = a["scaling"]
if s["type"] == "linear":
    inv = inv / s["factor"]
else:
    low_wl, high_wl = s["originalMaxPositions"] / s["lowFreqFactor"], s["originalMaxPositions"] / s["highFreqFactor"]
    wl = 2 * math.pi / inv
    out = torch.where(wl > low_wl, inv / s["factor"], inv)
    smooth = (s["originalMaxPositions"] / wl - s["lowFreqFactor"]) / (s["highFreqFactor"] - s["lowFreqFactor"])
    smoothed = (1 - smooth) * out / s["factor"] + smooth * out
    medium = ~(wl < high_wl) * ~(wl > low_wl)
    inv = torch.where(medium, smoothed, out)
print(json.dumps(inv.tolist()))
`;

test('rotary frequencies under llama3 and linear scaling match transformers\' formula run in PyTorch', (t) => {
  if (spawnSync(PYTHON, ['-c', 'import torch'], { timeout: 60_000 }).status !== 0) return t.skip(`${PYTHON} has no torch: PyTorch cross-check skipped (apt install python3-torch)`);
  const cases: { dim: number; theta: number; scaling: RopeScaling }[] = [
    { dim: 64, theta: 500_000, scaling: LLAMA32 },
    { dim: 128, theta: 500_000, scaling: { ...LLAMA32, factor: 8 } },
    { dim: 16, theta: 10_000, scaling: { type: 'linear', factor: 4 } },
  ];
  for (const c of cases) {
    const r = spawnSync(PYTHON, ['-c', PEER], { input: JSON.stringify(c), encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const want = JSON.parse(r.stdout) as number[];
    const got = ropeInverseFrequencies(c.dim, c.theta, c.scaling);
    assert.equal(got.length, want.length);
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= 1e-12 * Math.max(1, Math.abs(want[i]!)), `${c.scaling.type} dim ${c.dim} i=${i}: ${g} vs ${want[i]}`));
  }
});

test('llama3 scaling keeps the high frequencies, divides the low ones by the factor, and interpolates between', () => {
  const plain = ropeInverseFrequencies(64, 500_000);
  const scaled = ropeInverseFrequencies(64, 500_000, LLAMA32);
  const kinds = plain.map((f, i) => {
    const wl = (2 * Math.PI) / f;
    if (wl < 8192 / 4) return assert.equal(scaled[i], f), 'kept';
    if (wl > 8192) return assert.ok(Math.abs(scaled[i]! - f / 32) < 1e-15), 'divided';
    assert.ok(scaled[i]! < f && scaled[i]! > f / 32, `i=${i} interpolated`);
    return 'between';
  });
  for (const k of ['kept', 'divided', 'between'] as const) assert.ok(kinds.includes(k), `Llama 3.2's settings have ${k} frequencies`);
});

test('config.json rope_scaling: llama3 and linear read and write back; default is plain; other kinds are refused by name', () => {
  const base = { architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 4, vocab_size: 9 };
  const llama3 = parseHfConfig({ ...base, rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' } });
  assert.deepEqual(llama3.ropeScaling, LLAMA32);
  assert.deepEqual(parseHfConfig(toHfConfig(llama3)), llama3);
  // Older configs name the kind `type`.
  assert.deepEqual(parseHfConfig({ ...base, rope_scaling: { type: 'linear', factor: 2 } }).ropeScaling, { type: 'linear', factor: 2 });
  assert.equal(parseHfConfig({ ...base, rope_scaling: { rope_type: 'default' } }).ropeScaling, undefined);
  assert.equal('ropeScaling' in parseHfConfig({ ...base, rope_scaling: null }), false);
  assert.equal(toHfConfig(parseHfConfig(base)).rope_scaling, null);
  assert.throws(() => parseHfConfig({ ...base, rope_scaling: { rope_type: 'yarn', factor: 4 } }), (e: ModelError) => /rope_scaling type 'yarn' is not supported/.test(e.message) && /default, linear, llama3/.test(e.hint ?? ''));
  assert.throws(() => parseHfConfig({ ...base, rope_scaling: { rope_type: 'llama3', factor: 8, high_freq_factor: 4, original_max_position_embeddings: 8192 } }), /rope_scaling.*low_freq_factor/);
  assert.throws(() => parseHfConfig({ ...base, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 4, high_freq_factor: 1, original_max_position_embeddings: 8192 } }), /high_freq_factor must exceed/);
});

test('a model with rope scaling: cached and full forwards agree, scaling changes the output, save → load keeps it', async () => {
  const live0 = liveTensors();
  // Wavelengths of an 8-wide head at theta 10000 span 6-6300 positions: with 64 original positions every kind of frequency occurs.
  const cfg = tinyConfig('llama', { ropeScaling: { type: 'llama3', factor: 4, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 } });
  const model = testModel(cfg);
  const plain = testModel(tinyConfig('llama'));
  const seq = Array.from({ length: 20 }, (_, i) => (i * 7 + 3) % cfg.vocabSize);
  await withTempDir((dir) => {
    tidy(() => noGrad(() => {
      const full = model.forward(ids([seq])).logits;
      const cache = model.newCache();
      const a = model.forward(ids([seq.slice(0, 9)]), { cache }).logits;
      const b = model.forward(ids([seq.slice(9)]), { cache }).logits;
      cache.dispose();
      assertAllClose(a, full.narrow(1, 0, 9), 1e-5, 'cached prefix');
      assertAllClose(b, full.narrow(1, 9, seq.length - 9), 1e-5, 'cached rest');
      // Same weights (same seed), plain RoPE: position 0 is unrotated either way, later positions differ.
      const p = plain.forward(ids([seq])).logits;
      assertAllClose(p.narrow(1, 0, 1), full.narrow(1, 0, 1), 1e-5, 'position 0');
      assert.ok(maxAbsDiff(p.narrow(1, 1, seq.length - 1), full.narrow(1, 1, seq.length - 1)) > 1e-3, 'scaling changes later positions');
      saveModel(dir, model);
      assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).rope_scaling.rope_type, 'llama3');
      const loaded = loadModel(dir);
      assert.deepEqual(loaded.config.ropeScaling, cfg.ropeScaling);
      assertAllClose(loaded.forward(ids([seq])).logits, full, 0, 'reloaded');
      loaded.dispose();
    }));
  });
  model.dispose();
  plain.dispose();
  assert.equal(liveTensors(), live0, 'leaked tensors');
});

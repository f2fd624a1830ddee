// Llama-family configs beyond the plain one: Llama 3.x `rope_scaling` (frequencies as transformers
// computes them, read and written back) and a `head_dim` other than hidden / heads; a model with both
// matches a forward written independently in PyTorch and runs the same with and without the KV cache.
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

// transformers' default / linear / _compute_llama3_parameters, tensorised the way it writes them; rs is config.json's rope_scaling.
const INV_FREQ = `
import json, math, struct, sys, torch
def inv_freq(dim, theta, rs):
    inv = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).double() / dim))
    kind = (rs or {}).get("rope_type", "default")
    if kind == "linear":
        return inv / rs["factor"]
    if kind != "llama3":
        return inv
    f, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
    wl = 2 * math.pi / inv
    out = torch.where(wl > old / lo, inv / f, inv)
    sm = (old / wl - lo) / (hi - lo)
    return torch.where(~(wl < old / hi) * ~(wl > old / lo), (1 - sm) * out / f + sm * out, out)
`;

const PEER = `${INV_FREQ}
a = json.loads(sys.stdin.read())
print(json.dumps(inv_freq(a["dim"], a["theta"], a["rope_scaling"]).tolist()))
`;

// An independent Llama forward (transformers' modeling_llama, written out) over the saved directory.
const FORWARD = `${INV_FREQ}
d, ids = sys.argv[1], json.loads(sys.stdin.read())
cfg = json.load(open(d + "/config.json"))
raw = open(d + "/model.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
W = {}
for k, v in json.loads(raw[8:8 + n]).items():
    if k == "__metadata__": continue
    assert v["dtype"] == "F32", v["dtype"]
    s, e = v["data_offsets"]
    W[k] = torch.frombuffer(bytearray(raw[8 + n + s:8 + n + e]), dtype=torch.float32).reshape(v["shape"])
H, Hkv, D = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["hidden_size"]
hd, eps, T = cfg.get("head_dim") or D // H, cfg["rms_norm_eps"], len(ids)
inv = inv_freq(hd, cfg["rope_theta"], cfg.get("rope_scaling"))
ang = torch.outer(torch.arange(T).double(), inv)
cos, sin = torch.cat([ang, ang], -1).cos().float(), torch.cat([ang, ang], -1).sin().float()
rot = lambda x: torch.cat([-x[..., hd // 2:], x[..., :hd // 2]], -1)
norm = lambda x, w: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w
x = W["model.embed_tokens.weight"][torch.tensor(ids)]
for l in range(cfg["num_hidden_layers"]):
    p = "model.layers.%d." % l
    h = norm(x, W[p + "input_layernorm.weight"])
    q = (h @ W[p + "self_attn.q_proj.weight"].T).view(T, H, hd).transpose(0, 1)
    k = (h @ W[p + "self_attn.k_proj.weight"].T).view(T, Hkv, hd).transpose(0, 1)
    v = (h @ W[p + "self_attn.v_proj.weight"].T).view(T, Hkv, hd).transpose(0, 1)
    q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
    k, v = k.repeat_interleave(H // Hkv, 0), v.repeat_interleave(H // Hkv, 0)
    a = (q @ k.transpose(-1, -2) / math.sqrt(hd)).masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)
    x = x + (a @ v).transpose(0, 1).reshape(T, H * hd) @ W[p + "self_attn.o_proj.weight"].T
    h = norm(x, W[p + "post_attention_layernorm.weight"])
    x = x + (torch.nn.functional.silu(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
print(json.dumps((norm(x, W["model.norm.weight"]) @ W["lm_head.weight"].T).tolist()))
`;

const hasTorch = () => spawnSync(PYTHON, ['-c', 'import torch'], { timeout: 60_000 }).status === 0;
const NO_TORCH = `${PYTHON} has no torch: PyTorch cross-check skipped (apt install python3-torch)`;

test('rotary frequencies under llama3 and linear scaling match transformers\' formula run in PyTorch', (t) => {
  if (!hasTorch()) return t.skip(NO_TORCH);
  const cases: { dim: number; theta: number; scaling: RopeScaling }[] = [
    { dim: 64, theta: 500_000, scaling: LLAMA32 },
    { dim: 128, theta: 500_000, scaling: { ...LLAMA32, factor: 8 } },
    { dim: 16, theta: 10_000, scaling: { type: 'linear', factor: 4 } },
  ];
  for (const c of cases) {
    // The peer reads the scaling as config.json writes it.
    const hf = { dim: c.dim, theta: c.theta, rope_scaling: toHfConfig(tinyConfig('llama', { ropeScaling: c.scaling })).rope_scaling };
    const r = spawnSync(PYTHON, ['-c', PEER], { input: JSON.stringify(hf), encoding: 'utf8', timeout: 60_000 });
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

test('config.json rope_scaling: llama3 and linear read and write back; default and dynamic are plain RoPE; other kinds are refused by name', () => {
  const base = { architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 4, vocab_size: 9 };
  const llama3 = parseHfConfig({ ...base, rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' } });
  assert.deepEqual(llama3.ropeScaling, LLAMA32);
  assert.deepEqual(parseHfConfig(toHfConfig(llama3)), llama3);
  // Older configs name the kind `type`.
  assert.deepEqual(parseHfConfig({ ...base, rope_scaling: { type: 'linear', factor: 2 } }).ropeScaling, { type: 'linear', factor: 2 });
  assert.equal(parseHfConfig({ ...base, rope_scaling: { rope_type: 'default' } }).ropeScaling, undefined);
  // Dynamic NTK differs from plain RoPE only past max_position_embeddings, where no sequence may go.
  assert.equal(parseHfConfig({ ...base, rope_scaling: { type: 'dynamic', factor: 2 } }).ropeScaling, undefined);
  assert.throws(() => parseHfConfig({ ...base, rope_scaling: { type: 'dynamic' } }), /rope_scaling: factor: missing/);
  assert.equal('ropeScaling' in parseHfConfig({ ...base, rope_scaling: null }), false);
  assert.equal(toHfConfig(parseHfConfig(base)).rope_scaling, null);
  assert.throws(() => parseHfConfig({ ...base, rope_scaling: { rope_type: 'yarn', factor: 4 } }), (e: ModelError) => /rope_scaling type 'yarn' is not supported/.test(e.message) && /default, dynamic, linear, llama3/.test(e.hint ?? ''));
  assert.throws(() => parseHfConfig({ ...base, rope_scaling: { rope_type: 'llama3', factor: 8, high_freq_factor: 4, original_max_position_embeddings: 8192 } }), /rope_scaling.*low_freq_factor/);
  assert.throws(() => parseHfConfig({ ...base, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 4, high_freq_factor: 1, original_max_position_embeddings: 8192 } }), /high_freq_factor must exceed/);
});

// Wavelengths of a 16-wide head at theta 10000 span 6-6300 positions: with 64 original positions every kind of frequency occurs.
const SCALED = { ropeScaling: { type: 'llama3', factor: 4, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 } } as const;

test('head_dim other than hidden / heads and llama3 rope scaling: logits equal an independent PyTorch forward', async (t) => {
  if (!hasTorch()) return t.skip(NO_TORCH);
  const cfg = tinyConfig('llama', { nLayers: 2, headDim: 16, ...SCALED });
  const model = testModel(cfg);
  const seq = Array.from({ length: 24 }, (_, i) => (i * 11 + 5) % cfg.vocabSize);
  try {
    assert.deepEqual(model.blocks[0]!.attn.q.weight.shape, [4 * 16, 32]);
    assert.deepEqual(model.blocks[0]!.attn.o.weight.shape, [32, 4 * 16]);
    await withTempDir((dir) => {
      saveModel(dir, model);
      assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).head_dim, 16);
      const r = spawnSync(PYTHON, ['-c', FORWARD, dir], { input: JSON.stringify(seq), encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      const want = JSON.parse(r.stdout) as number[][];
      const got = noGrad(() => tidy(() => model.forward(ids([seq])).logits.squeeze(0).toFloat32Array()));
      let worst = 0;
      want.forEach((row, i) => row.forEach((w, j) => { worst = Math.max(worst, Math.abs(w - got[i * cfg.vocabSize + j]!)); }));
      assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
      const loaded = loadModel(dir);
      assert.deepEqual([loaded.config.headDim, loaded.config.ropeScaling], [16, cfg.ropeScaling]);
      loaded.dispose();
    });
  } finally {
    model.dispose();
  }
});

test('a model with rope scaling: cached and full forwards agree, scaling changes the output, save → load keeps it', async () => {
  const live0 = liveTensors();
  const cfg = tinyConfig('llama', { headDim: 16, ...SCALED });
  const model = testModel(cfg);
  const plain = testModel(tinyConfig('llama', { headDim: 16 }));
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
      // Past the model's positions a rotary model refuses instead of running with frequencies it was not configured for.
      assert.throws(() => model.forward(ids([Array.from({ length: cfg.maxPositions + 1 }, () => 3)])), /positions up to 65 exceed the model's 64 positions/);
      const c2 = model.newCache();
      model.forward(ids([seq]), { cache: c2 });
      assert.throws(() => model.forward(ids([Array.from({ length: cfg.maxPositions - seq.length + 1 }, () => 3)]), { cache: c2 }), /exceed/);
      c2.dispose();
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

// Save/load of HF directories: round trips, HF layouts, dtype conversion, shards, and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, unlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Tensor, ids, noGrad, tidy, saveSafetensors, loadSafetensors, SafetensorsFile, dispose, liveTensors } from '../../src/torch/index.js';
import { loadModel, saveModel, readConfig, parseHfConfig, toHfConfig, loadTokenizer, ModelError } from '../../src/models/index.js';
import { sharedPath, SHARED_MISSING } from '../helpers/shared.js';
import { FAMILIES, tinyConfig, testModel, withTempDir, assertAllClose, tokenIds } from './helpers.js';

const input = (vocab: number) => ids([tokenIds(11, vocab, 5), tokenIds(11, vocab, 6)]);

for (const family of FAMILIES) {
  test(`${family}: save → load round trip gives the same forward and an HF directory`, async () => {
    const before = liveTensors();
    await withTempDir((dir) => {
      const cfg = tinyConfig(family, family === 'llama' ? { attentionBias: true, mlpBias: true } : {});
      const model = testModel(cfg);
      saveModel(dir, model);
      const loaded = loadModel(dir);
      try {
        assert.deepEqual(readConfig(dir), cfg);
        const hf = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
        assert.deepEqual(hf.architectures, [family === 'llama' ? 'LlamaForCausalLM' : 'GPT2LMHeadModel']);
        const f = SafetensorsFile.open(join(dir, 'model.safetensors'));
        try {
          if (family === 'gpt2') {
            // Conv1D layout [in, out] with fused q/k/v, tied head not written.
            assert.deepEqual(f.info('transformer.h.0.attn.c_attn.weight')?.shape, [32, 96]);
            assert.deepEqual(f.info('transformer.h.0.mlp.c_fc.weight')?.shape, [32, 128]);
            assert.equal(f.info('lm_head.weight'), undefined);
          } else {
            assert.deepEqual(f.info('model.layers.0.self_attn.k_proj.weight')?.shape, [16, 32]);
            assert.deepEqual(f.info('model.layers.0.self_attn.o_proj.bias')?.shape, [32]);
            assert.deepEqual(f.info('lm_head.weight')?.shape, [61, 32]);
          }
        } finally {
          f.close();
        }
        tidy(() => noGrad(() => {
          const x = input(cfg.vocabSize);
          const a = model.forward(x).logits;
          const b = loaded.forward(x).logits;
          assertAllClose(a, b, 0, 'reloaded logits are bitwise equal');
        }));
      } finally {
        model.dispose();
        loaded.dispose();
      }
    });
    assert.equal(liveTensors(), before, 'no tensor leaked');
  });
}

test('GPT-2 keys without the transformer. prefix, an untied lm_head, and fp16 / bf16 weights load', async () => {
  await withTempDir((dir) => {
    const cfg = tinyConfig('gpt2', { tieEmbeddings: false });
    const model = testModel(cfg);
    try {
      saveModel(dir, model);
      const path = join(dir, 'model.safetensors');
      const sd = loadSafetensors(path);
      const renamed = new Map<string, Tensor>();
      let i = 0;
      for (const [k, t] of sd) {
        const name = k.replace(/^transformer\./, '');
        // Alternate fp16 / bf16 / fp32 storage.
        const dt = ['float16', 'bfloat16', 'float32'][i++ % 3] as 'float16' | 'bfloat16' | 'float32';
        renamed.set(name, dt === 'float32' ? t : t.to(dt));
      }
      saveSafetensors(path, renamed);
      dispose([...sd.values(), ...renamed.values()]);
      const loaded = loadModel(dir);
      try {
        assert.ok(!loaded.head!.tied);
        for (const [, p] of loaded.namedParameters()) assert.equal(p.dtype, 'float32');
        tidy(() => noGrad(() => {
          const x = input(cfg.vocabSize);
          // bf16 keeps ~3 significant digits: close, not equal.
          assertAllClose(loaded.forward(x).logits, model.forward(x).logits, 0.05, 'half-precision checkpoint');
        }));
      } finally {
        loaded.dispose();
      }
    } finally {
      model.dispose();
    }
  });
});

test('a sharded checkpoint (model.safetensors.index.json) loads', async () => {
  await withTempDir((dir) => {
    const cfg = tinyConfig('llama');
    const model = testModel(cfg);
    try {
      saveModel(dir, model);
      const sd = loadSafetensors(join(dir, 'model.safetensors'));
      const keys = [...sd.keys()];
      const shards = [keys.slice(0, 20), keys.slice(20)];
      const weightMap: Record<string, string> = {};
      shards.forEach((ks, i) => {
        const name = `model-0000${i + 1}-of-00002.safetensors`;
        saveSafetensors(join(dir, name), new Map(ks.map((k) => [k, sd.get(k)!])));
        for (const k of ks) weightMap[k] = name;
      });
      dispose([...sd.values()]);
      unlinkSync(join(dir, 'model.safetensors'));
      writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
      const loaded = loadModel(dir);
      try {
        tidy(() => noGrad(() => assertAllClose(loaded.forward(input(61)).logits, model.forward(input(61)).logits, 0, 'sharded')));
      } finally {
        loaded.dispose();
      }
    } finally {
      model.dispose();
    }
  });
});

test('Qwen2-style config (q/k/v biases, no o_proj bias, no attention_bias field) loads', async () => {
  await withTempDir((dir) => {
    const cfg = tinyConfig('llama', { attentionBias: true });
    const model = testModel(cfg);
    try {
      noGrad(() => { for (const b of model.blocks) b.attn.o.bias!.fill_(0); });
      saveModel(dir, model);
      const path = join(dir, 'model.safetensors');
      const sd = loadSafetensors(path);
      const kept = new Map([...sd].filter(([k]) => !k.endsWith('o_proj.bias')));
      assert.ok(kept.size < sd.size);
      saveSafetensors(path, kept);
      dispose([...sd.values()]);
      const hf = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      delete hf.attention_bias;
      hf.architectures = ['Qwen2ForCausalLM'];
      hf.model_type = 'qwen2';
      writeFileSync(join(dir, 'config.json'), JSON.stringify(hf));
      const loaded = loadModel(dir);
      try {
        assert.equal(loaded.config.attentionBias, true);
        tidy(() => noGrad(() => assertAllClose(loaded.forward(input(61)).logits, model.forward(input(61)).logits, 0, 'qwen2-style')));
      } finally {
        loaded.dispose();
      }
    } finally {
      model.dispose();
    }
  });
});

test('missing key and shape mismatch errors name the key and the expected shape', async () => {
  await withTempDir((dir) => {
    const model = testModel(tinyConfig('llama'));
    saveModel(dir, model);
    model.dispose();
    const path = join(dir, 'model.safetensors');
    const sd = loadSafetensors(path);
    const key = 'model.layers.2.mlp.up_proj.weight';
    saveSafetensors(path, new Map([...sd].filter(([k]) => k !== key)));
    assert.throws(() => loadModel(dir), (e: Error) => e instanceof ModelError && e.message.includes(`'${key}'`) && e.message.includes('[48, 32]'));
    const wrong = tidy(() => sd.get(key)!.narrow(0, 0, 40).contiguous());
    saveSafetensors(path, new Map([...sd].map(([k, t]): [string, Tensor] => [k, k === key ? wrong : t])));
    assert.throws(() => loadModel(dir), (e: Error) => e instanceof ModelError && e.message.includes(`'${key}'`) && e.message.includes('[40, 32]') && e.message.includes('expected [48, 32]'));
    dispose([...sd.values(), wrong]);
  });
});

test('missing files and unknown architectures give clear errors', async () => {
  assert.throws(() => loadModel('/nonexistent/model/dir'), /does not exist/);
  await withTempDir((dir) => {
    assert.throws(() => loadModel(dir), /config\.json: no such file/);
    writeFileSync(join(dir, 'config.json'), '{"architectures": ["LlamaFor');
    assert.throws(() => loadModel(dir), (e: Error) => e instanceof ModelError && /config\.json: not valid JSON/.test(e.message) && /copy config\.json again/.test((e as ModelError).hint!));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['BertForMaskedLM'], hidden_size: 8 }));
    assert.throws(() => loadModel(dir), (e: Error) => e instanceof ModelError && /'BertForMaskedLM'/.test(e.message) && /LlamaForCausalLM/.test((e as ModelError).hint!) && /GPT2LMHeadModel/.test((e as ModelError).hint!));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(toHfConfig(tinyConfig('gpt2'))));
    assert.throws(() => loadModel(dir), (e: Error) => e instanceof ModelError && /model\.safetensors/.test(e.message));
    assert.ok(!existsSync(join(dir, 'model.safetensors')));
  });
});

test('config parsing: HF defaults, GQA, Mistral, invalid fields', () => {
  const llama = parseHfConfig({
    architectures: ['MistralForCausalLM'], hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2,
    num_attention_heads: 8, num_key_value_heads: 2, vocab_size: 100, sliding_window: 4096, eos_token_id: [5, 6],
  });
  assert.equal(llama.family, 'llama');
  assert.equal(llama.nKvHeads, 2);
  assert.equal(llama.attentionBias, false);
  assert.equal(llama.tieEmbeddings, false);
  assert.equal(llama.normEps, 1e-6);
  assert.equal(llama.maxPositions, 2048, 'a sliding window wider than the positions changes nothing');
  const mistral = { architectures: ['MistralForCausalLM'], hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 8, vocab_size: 100, max_position_embeddings: 32768, sliding_window: 4096 };
  assert.equal(parseHfConfig(mistral).maxPositions, 4096, 'positions past the sliding window are refused, not attended in full');
  assert.equal(parseHfConfig({ ...mistral, architectures: ['Qwen2ForCausalLM'], use_sliding_window: false }).maxPositions, 32768);
  assert.equal(llama.eosTokenId, 5);
  const gpt2 = parseHfConfig({ model_type: 'gpt2', n_embd: 64, n_layer: 2, n_head: 4, vocab_size: 100 });
  assert.deepEqual([gpt2.dFf, gpt2.maxPositions, gpt2.activation, gpt2.tieEmbeddings], [256, 1024, 'gelu_new', true]);
  for (const cfg of [tinyConfig('llama'), tinyConfig('gpt2', { dFf: 100, activation: 'gelu' })]) assert.deepEqual(parseHfConfig(toHfConfig(cfg)), cfg);
  assert.throws(() => parseHfConfig({ architectures: ['LlamaForCausalLM'], hidden_size: 64 }), /intermediate_size/);
  assert.throws(() => parseHfConfig({ model_type: 'gpt2', n_embd: 64, n_layer: 2, n_head: 5, vocab_size: 10 }), /divisible/);
  assert.throws(
    () => parseHfConfig({ architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 4, vocab_size: 9, rope_scaling: { rope_type: 'longrope', factor: 2 } }),
    /rope_scaling type 'longrope' is not supported/,
  );
});

test('saveModel writes the tokenizer files; the saved directory loads as a whole', async (t) => {
  const src = sharedPath('models/stories260K');
  if (!src) return t.skip(SHARED_MISSING('models/stories260K'));
  await withTempDir((dir) => {
    const tok = loadTokenizer(src);
    const model = testModel(tinyConfig('llama', { vocabSize: 512 }));
    try {
      saveModel(dir, model, tok);
      const again = loadTokenizer(dir);
      const text = 'Lily met a dragon named Bob at 3 pm.';
      assert.deepEqual(again.encode(text), tok.encode(text));
      assert.equal(again.bosTokenId, tok.bosTokenId);
      assert.equal(again.decode(again.encode(text), { skipSpecialTokens: true }), text);
    } finally {
      model.dispose();
    }
  });
});

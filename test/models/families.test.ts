// The family registry is the one place that names families: a third family registered here, in
// memory only, is parsed, built, run, saved, loaded, split and pretrained by the generic code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { type Tensor, nn, ids, noGrad, tidy, SafetensorsFile, liveTensors } from '../../src/torch/index.js';
import {
  registerFamily, parseHfConfig, toHfConfig, saveModel, loadModel, loadDevicePart, loadServerPart, splitModel, randomModel,
  FAMILIES, type FamilySpec, type FamilyLayout, type ModelConfig,
} from '../../src/models/index.js';
import { parseFields, posInt } from '../../src/models/families/hf_fields.js';
import { resolveSettings, modelConfigFor } from '../../src/pretrain/config.js';
import { testModel, withTempDir, assertAllClose, maxAbsDiff, tokenIds } from './helpers.js';

// Fake families unlike both built-ins and unlike each other, so that every choice the generic code
// makes (norm, MLP, positions, grouped-query attention, config fields, checkpoint keys) must come from
// the spec: each has its own config.json fields and checkpoint keys (MLP input weights transposed).
interface Choices { layerNorm: boolean; gatedMlp: boolean; positions: 'rotary' | 'learned'; groupedQuery: boolean }
const schema = z.object({
  width: posInt, depth: posInt, heads: posInt, kv_heads: posInt, mlp_width: posInt, vocab: posInt, context: posInt, theta: z.number(),
});
const transposed = (name: string) => /\.mlp\.up\.weight$/.test(name);

function fakeFamily(name: string, o: Choices): FamilySpec {
  const arch = `${name}ForCausalLM`;
  const prefix = `${name}/`;
  const layout = (): FamilyLayout => ({
    source: (n, shape) => (transposed(n) ? { key: prefix + n, shape: [shape[1]!, shape[0]!], take: (t: Tensor) => t.T } : { key: prefix + n, shape }),
    toHf: (sd) => new Map([...sd].map(([n, t]) => [prefix + n, transposed(n) ? t.T.contiguous() : t])),
  });
  return {
    name,
    title: name.toUpperCase(),
    architectures: [arch],
    modelTypes: { [name]: arch },
    fromHf(json, _arch, where): ModelConfig {
      const c = parseFields(schema, json, where);
      return {
        family: name, vocabSize: c.vocab, dModel: c.width, nLayers: c.depth, nHeads: c.heads, nKvHeads: c.kv_heads, dFf: c.mlp_width,
        maxPositions: c.context, normEps: 1e-5, ropeTheta: c.theta, tieEmbeddings: false, activation: 'gelu', attentionBias: true,
        mlpBias: false, bosTokenId: null, eosTokenId: null, padTokenId: null,
      };
    },
    toHf: (c) => ({
      architectures: [arch], width: c.dModel, depth: c.nLayers, heads: c.nHeads, kv_heads: c.nKvHeads, mlp_width: c.dFf,
      vocab: c.vocabSize, context: c.maxPositions, theta: c.ropeTheta,
    }),
    norm: (c) => (o.layerNorm ? new nn.LayerNorm(c.dModel, c.normEps) : new nn.RMSNorm(c.dModel, c.normEps)),
    gatedMlp: o.gatedMlp,
    positions: o.positions,
    groupedQuery: o.groupedQuery,
    loadLayout: layout,
    saveLayout: layout,
    fresh: {
      dFf: (d) => 3 * d,
      dFfRule: '3·d',
      choices: { ropeTheta: 500, tieEmbeddings: false, activation: 'gelu', attentionBias: true, mlpBias: false },
    },
  };
}

const VARIANTS: [string, Choices][] = [
  ['toya', { layerNorm: true, gatedMlp: true, positions: 'rotary', groupedQuery: false }],
  ['toyb', { layerNorm: false, gatedMlp: false, positions: 'learned', groupedQuery: true }],
];

for (const [name, o] of VARIANTS) {
  test(`${name} (${o.layerNorm ? 'LayerNorm' : 'RMSNorm'}, ${o.gatedMlp ? 'gated' : 'plain'} MLP, ${o.positions} positions): registered in one place, it is parsed, built, saved, loaded, split and pretrained by the generic code`, async () => {
    const before = liveTensors();
    const spec = fakeFamily(name, o);
    const arch = spec.architectures[0]!;
    const json = { model_type: name, width: 32, depth: 3, heads: 4, kv_heads: o.groupedQuery ? 2 : 4, mlp_width: 40, vocab: 53, context: 32, theta: 1000 };
    const unregister = registerFamily(spec);
    try {
      assert.ok(FAMILIES.has(name));
      assert.throws(() => registerFamily(spec), /already registered/);
      assert.throws(() => registerFamily({ ...spec, name: `${name}2`, architectures: ['GPT2LMHeadModel'], modelTypes: {} }), /GPT2LMHeadModel.*already registered/);

      // config.json → config → config.json, and the structural rules that follow from the choices.
      const cfg = parseHfConfig(json);
      assert.equal(cfg.family, name);
      assert.deepEqual(parseHfConfig(toHfConfig(cfg)), cfg);
      assert.throws(() => parseHfConfig({ ...json, width: 'wide' }), /width/);
      const oddHeadDim = () => parseHfConfig({ ...json, heads: 32, kv_heads: 32 });
      if (o.positions === 'rotary') assert.throws(oddHeadDim, /head dimension 1 must be even for RoPE/);
      else assert.equal(oddHeadDim().nHeads, 32);
      const gqa = () => parseHfConfig({ ...json, kv_heads: 1 });
      if (o.groupedQuery) assert.equal(gqa().nKvHeads, 1);
      else assert.throws(gqa, new RegExp(`${spec.title} has no grouped-query attention`));

      const model = testModel(cfg);
      try {
        // The spec chose the modules.
        const names = new Set(model.namedParameters().map(([n]) => n));
        assert.equal(names.has('layers.0.norm1.bias') && names.has('norm.bias'), o.layerNorm, 'norm');
        assert.equal(names.has('layers.0.mlp.gate.weight'), o.gatedMlp, 'gated MLP');
        assert.equal(names.has('embed.wpe.weight'), o.positions === 'learned', 'learned position table');
        assert.deepEqual(model.blocks[0]!.attn.k.weight.shape, [cfg.nKvHeads * 8, 32]);

        const x = ids([tokenIds(10, cfg.vocabSize, 3), tokenIds(10, cfg.vocabSize, 4)]);
        const logits = noGrad(() => model.forward(x).logits);
        try {
          // Positions enter (by the table or by RoPE): without them the stream after one block would
          // not depend on the order of the tokens before it.
          const oneBlock = splitModel(model, 1).device;
          tidy(() => noGrad(() => {
            const last = (seq: number[]) => oneBlock.forward(ids([seq])).hidden.narrow(1, 2, 1);
            assert.ok(maxAbsDiff(last([5, 9, 7]), last([9, 5, 7])) > 1e-3, 'token order changes the output');
          }));

          await withTempDir((dir) => {
            saveModel(dir, model);
            assert.deepEqual(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).architectures, [arch]);
            const f = SafetensorsFile.open(join(dir, 'model.safetensors'));
            try {
              assert.ok(f.keys().every((k) => k.startsWith(`${name}/`)), 'saved under the family\'s keys');
              assert.deepEqual(f.info(`${name}/layers.1.mlp.up.weight`)?.shape, [32, 40], 'saved in the family\'s layout');
            } finally {
              f.close();
            }
            const loaded = loadModel(dir);
            const device = loadDevicePart(dir, 1);
            const server = loadServerPart(dir, 1);
            try {
              assert.equal(loaded.config.family, name);
              tidy(() => noGrad(() => {
                assertAllClose(loaded.forward(x).logits, logits, 0, 'reloaded logits are bitwise equal');
                assertAllClose(server.forward(device.forward(x).hidden).output, logits, 1e-5, 'parts loaded at k=1');
              }));
            } finally {
              for (const m of [loaded, device, server]) m.dispose();
            }
          });

          const { device, server } = splitModel(model, 2);
          tidy(() => noGrad(() => assertAllClose(server.forward(device.forward(x).hidden).output, logits, 1e-5, 'in-memory split at k=2')));
        } finally {
          logits.dispose();
          x.dispose();
        }
      } finally {
        model.dispose();
      }

      // Pretraining takes the family's MLP width, fixed choices and rules.
      const s = resolveSettings({ family: name, dModel: 32, heads: 2, layers: 1 });
      assert.equal(s.ff, 96);
      const fresh = modelConfigFor(s, { vocabSize: 300, bosTokenId: 0, eosTokenId: 0, padTokenId: null });
      assert.deepEqual([fresh.family, fresh.ropeTheta, fresh.activation, fresh.attentionBias, fresh.mlpBias], [name, 500, 'gelu', true, false]);
      randomModel(fresh).dispose();
      const kvHeads = () => resolveSettings({ family: name, heads: 4, kvHeads: 2 });
      if (o.groupedQuery) assert.equal(kvHeads().kvHeads, 2);
      else assert.throws(kvHeads, new RegExp(`${spec.title} has no grouped-query attention`));
    } finally {
      unregister();
    }
    assert.ok(!FAMILIES.has(name));
    assert.throws(() => parseHfConfig(json), new RegExp(`unsupported architecture '${name}'`));
    assert.throws(() => resolveSettings({ family: name }), new RegExp(`family must be llama or gpt2, got '${name}'`));
    assert.equal(liveTensors(), before, 'no tensor leaked');
  });
}

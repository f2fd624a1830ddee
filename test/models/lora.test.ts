// LoRA: zero-initialised B is a no-op; training moves the output, never the base weights; merge,
// save and load preserve the function; adapters work on split parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type Tensor, ids, noGrad, tidy, optim, F, liveTensors } from '../../src/torch/index.js';
import {
  applyLoRA, loraParameters, namedLoRAParameters, mergeLoRA, saveLoRA, loadLoRA, splitModel, ModelError, type Transformer,
} from '../../src/models/index.js';
import { FAMILIES, tinyConfig, testModel, withTempDir, assertAllClose, sameBytes, tokenIds } from './helpers.js';

const snapshot = (m: Transformer) => new Map(m.namedParameters().map(([n, p]) => [n, noGrad(() => p.clone())]));

function train(model: Transformer, steps: number, x: Tensor, y: Tensor): void {
  const opt = new optim.AdamW(loraParameters(model), { lr: 0.05 });
  for (let i = 0; i < steps; i++) {
    tidy(() => {
      const logits = model.forward(x).logits;
      const loss = F.crossEntropy(logits.flatten(0, 1), y.flatten());
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
  }
  opt.dispose();
}

for (const family of FAMILIES) {
  test(`${family}: LoRA — no-op at init, trains only adapters, merge and save/load keep the function`, async () => {
    const before = liveTensors();
    const model = testModel(tinyConfig(family));
    const V = model.config.vocabSize;
    const x = ids([tokenIds(10, V, 1), tokenIds(10, V, 2)]);
    const y = ids([tokenIds(10, V, 3), tokenIds(10, V, 4)]);
    const base = snapshot(model);
    const logits0 = noGrad(() => model.forward(x).logits);
    const targets = family === 'llama' ? ['q', 'v', 'gate', 'down'] : ['q', 'v', 'up'];
    const names = applyLoRA(model, { rank: 4, alpha: 8, targets, seed: 3 });
    assert.equal(names.length, model.config.nLayers * targets.length);
    assert.ok(names.includes('layers.0.attn.q'));
    const lp = namedLoRAParameters(model);
    assert.equal(lp.length, 2 * names.length);
    assert.ok(model.trainableParameters().every((p) => lp.some(([, q]) => q === p)), 'only adapters are trainable');
    tidy(() => {
      assert.ok(lp.every(([n, p]) => !n.endsWith('.B') || p.abs().max().item() === 0), 'B starts at zero');
      assert.ok(lp.every(([n, p]) => !n.endsWith('.A') || p.abs().max().item() > 0), 'A is initialised');
    });
    tidy(() => noGrad(() => assertAllClose(model.forward(x).logits, logits0, 0, 'zero B changes nothing')));

    train(model, 4, x, y);
    const trained = noGrad(() => model.forward(x).logits);
    assert.ok(!trained.allclose(logits0, 1e-3, 1e-3), 'training the adapters changes the output');
    for (const [n, p] of model.namedParameters()) {
      if (!/\.lora\./.test(n)) assert.ok(sameBytes(p, base.get(n)!), `base weight ${n} is bitwise unchanged`);
    }

    await withTempDir((dir) => {
      const path = join(dir, 'adapter.safetensors');
      saveLoRA(path, model);
      // Into a fresh copy of the base model: adapters are created from the file's metadata.
      const other = testModel(tinyConfig(family));
      try {
        loadLoRA(path, other);
        tidy(() => noGrad(() => assertAllClose(other.forward(x).logits, trained, 1e-6, 'loaded adapters')));
        // Into a server part of the same model: only its blocks' adapters would match.
        const fresh = testModel(tinyConfig(family));
        const { server } = splitModel(fresh, 2);
        assert.throws(() => loadLoRA(path, server), (e: Error) => e instanceof ModelError && /layers\.0\./.test(e.message));
        fresh.dispose();
      } finally {
        other.dispose();
      }
    });

    mergeLoRA(model);
    assert.equal(loraParameters(model).length, 0);
    tidy(() => noGrad(() => assertAllClose(model.forward(x).logits, trained, 1e-5, 'merged = unmerged')));
    model.dispose();
    for (const t of [x, y, logits0, trained, ...base.values()]) t.dispose();
    assert.equal(liveTensors(), before, 'no tensor leaked');
  });
}

test('LoRA on the server part of a split trains server adapters only, through the device output', () => {
  const model = testModel(tinyConfig('llama'));
  const { device, server } = splitModel(model, 2);
  const names = applyLoRA(server, { rank: 2, targets: ['q', 'k', 'v', 'o'] });
  assert.ok(names.every((n) => /^layers\.[23]\./.test(n)), 'only the server blocks are adapted');
  const x = ids([tokenIds(8, 61, 7)]);
  const y = ids([tokenIds(8, 61, 8)]);
  const h = noGrad(() => device.forward(x).hidden);
  const opt = new optim.AdamW(loraParameters(server), { lr: 0.05 });
  const before = noGrad(() => server.forward(h).output);
  for (let i = 0; i < 3; i++) {
    tidy(() => {
      const loss = F.crossEntropy(server.forward(h).output.flatten(0, 1), y.flatten());
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
  }
  tidy(() => noGrad(() => {
    const after = server.forward(h).output;
    assert.ok(!after.allclose(before, 1e-3, 1e-3));
    // The shared modules carry the adapters: the full model sees the server's fine-tuning.
    assertAllClose(model.forward(x).logits, after, 1e-5, 'full model = device + adapted server');
  }));
  assert.throws(() => applyLoRA(device, { rank: 2, targets: ['lm_head'] }), /no projection/);
  opt.dispose();
  for (const t of [x, y, h, before]) t.dispose();
  model.dispose();
});

test('applyLoRA twice keeps earlier adapters trainable and refuses a second adapter on one projection', () => {
  const model = testModel(tinyConfig('gpt2'));
  try {
    applyLoRA(model, { rank: 2, targets: ['q'] });
    applyLoRA(model, { rank: 2, targets: ['v'] });
    const trainable = model.trainableParameters();
    assert.equal(trainable.length, 2 * 2 * model.config.nLayers);
    assert.deepEqual(new Set(trainable), new Set(loraParameters(model)));
    assert.throws(() => applyLoRA(model, { rank: 2, targets: ['q'] }), /already has a LoRA adapter/);
    assert.equal(loraParameters(model).length, 2 * 2 * model.config.nLayers, 'a refused call changes nothing');
  } finally {
    model.dispose();
  }
});

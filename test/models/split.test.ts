// Split models compose exactly to the full forward; parts loaded from disk read only their tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type Tensor, ids, noGrad, tidy, loadSafetensors, saveSafetensors, dispose, liveTensors } from '../../src/torch/index.js';
import {
  splitModel, saveModel, loadDevicePart, loadServerPart, loadDeviceTail, loadWeights, ModelError, type Transformer,
} from '../../src/models/index.js';
import { FAMILIES, tinyConfig, testModel, withTempDir, assertAllClose, tokenIds } from './helpers.js';

const batch = (vocab: number) => ids([tokenIds(9, vocab, 1), tokenIds(9, vocab, 2)]);

function fullForward(model: Transformer, x: Tensor): { logits: Tensor; hiddenStates: Tensor[] } {
  const r = model.forward(x, { outputHiddenStates: true });
  return { logits: r.logits, hiddenStates: r.hiddenStates! };
}

for (const family of FAMILIES) {
  test(`${family}: split(k) composes to the full forward for every k`, () => {
    const before = liveTensors();
    const model = testModel(tinyConfig(family, { tieEmbeddings: family === 'gpt2' }));
    const L = model.config.nLayers;
    tidy(() => noGrad(() => {
      const x = batch(model.config.vocabSize);
      const full = fullForward(model, x);
      for (let k = 0; k <= L; k++) {
        const { device, server, deviceTail } = splitModel(model, k);
        assert.equal(deviceTail, undefined);
        assert.equal(device.splitPoint, k);
        assert.equal(server.splitPoint, k);
        const d = device.forward(x, { outputHiddenStates: true });
        assert.equal(d.hiddenStates!.length, k + 1);
        assertAllClose(d.hidden, full.hiddenStates[k]!, 1e-5, `H_${k}`);
        const s = server.forward(d.hidden, { outputHiddenStates: true });
        assert.equal(s.hiddenStates!.length, L - k);
        assertAllClose(s.output, full.logits, 1e-5, `logits through split at ${k}`);
        s.hiddenStates!.forEach((h, i) => assertAllClose(h, full.hiddenStates[k + 1 + i]!, 1e-5, `server stream ${k + 1 + i}`));
        assert.equal('embed' in server, false, 'server part has no embed()');
        assert.ok(server.namedParameters().every(([n]) => !n.startsWith('embed.')), 'server part holds no input embedding module');
      }
    }));
    model.dispose();
    assert.equal(liveTensors(), before, 'no tensor leaked');
  });

  test(`${family}: U-shaped split(k, m) composes to the full forward`, () => {
    const model = testModel(tinyConfig(family));
    const L = model.config.nLayers;
    tidy(() => noGrad(() => {
      const x = batch(model.config.vocabSize);
      const full = fullForward(model, x);
      for (let k = 0; k <= L; k++) {
        for (let m = 1; k + m <= L; m++) {
          const { device, server, deviceTail } = splitModel(model, k, m);
          assert.ok(deviceTail);
          assert.equal(server.hasHead, false);
          const h = device.forward(x).hidden;
          const mid = server.forward(h).output;
          assertAllClose(mid, full.hiddenStates[L - m]!, 1e-5, `server output = stream after block ${L - m - 1}`);
          assertAllClose(deviceTail.forward(mid).output, full.logits, 1e-5, `U-split k=${k} m=${m}`);
        }
      }
    }));
    assert.throws(() => splitModel(model, 3, 2), ModelError);
    assert.throws(() => splitModel(model, -1), ModelError);
    model.dispose();
  });
}

test('the server part never calls embed (spy on the shared embedding module)', () => {
  const model = testModel(tinyConfig('gpt2'));
  const { device, server } = splitModel(model, 2);
  let calls = 0;
  const emb = model.embeddings!;
  const orig = emb.forward.bind(emb);
  emb.forward = (...a: Parameters<typeof orig>) => { calls++; return orig(...a); };
  tidy(() => noGrad(() => {
    const h = device.forward(batch(67)).hidden;
    assert.equal(calls, 1);
    server.forward(h);
    assert.equal(calls, 1, 'server.forward did not embed');
  }));
  model.dispose();
});

for (const family of FAMILIES) {
  test(`${family}: loadDevicePart / loadServerPart / loadDeviceTail read only their tensors and compose`, async () => {
    await withTempDir((dir) => {
      // Untied head: then the server needs no embedding matrix at all.
      const cfg = tinyConfig(family, { tieEmbeddings: false });
      const model = testModel(cfg);
      try {
        saveModel(dir, model);
        const embedKey = family === 'llama' ? 'model.embed_tokens.weight' : 'transformer.wte.weight';
        // Remove the input embedding matrix from disk: the server must still load.
        const path = join(dir, 'model.safetensors');
        const sd = loadSafetensors(path);
        saveSafetensors(path, new Map([...sd].filter(([k]) => k !== embedKey)));
        dispose([...sd.values()]);
        const server = loadServerPart(dir, 2);
        const serverU = loadServerPart(dir, 1, 2);
        const tail = loadDeviceTail(dir, 2);
        assert.throws(() => loadDevicePart(dir, 2), (e: Error) => e.message.includes(`'${embedKey}'`));
        saveModel(dir, model);
        const device = loadDevicePart(dir, 2);
        try {
          assert.deepEqual(server.namedParameters().map(([n]) => n.split('.')[0]).filter((v, i, a) => a.indexOf(v) === i), ['layers', 'norm', 'head']);
          assert.deepEqual([...new Set(device.namedParameters().map(([n]) => n.split('.').slice(0, 2).join('.')))],
            family === 'gpt2' ? ['embed.wte', 'embed.wpe', 'layers.0', 'layers.1'] : ['embed.wte', 'layers.0', 'layers.1']);
          tidy(() => noGrad(() => {
            const x = batch(cfg.vocabSize);
            const full = model.forward(x).logits;
            const h = device.forward(x).hidden;
            assertAllClose(server.forward(h).output, full, 1e-5, 'loaded split');
            const hd = loadDevicePart(dir, 1);
            try {
              assertAllClose(tail.forward(serverU.forward(hd.forward(x).hidden).output).output, full, 1e-5, 'loaded U-split');
            } finally {
              hd.dispose();
            }
          }));
        } finally {
          for (const p of [server, serverU, tail, device]) p.dispose();
        }
      } finally {
        model.dispose();
      }
    });
  });
}

test('tied head: the server reads the embedding matrix only as its head weight', async () => {
  await withTempDir((dir) => {
    const model = testModel(tinyConfig('llama', { tieEmbeddings: true }));
    try {
      saveModel(dir, model);
      const server = loadServerPart(dir, 3);
      try {
        assert.equal(server.embeddings, null);
        assert.ok(!server.head!.tied);
        // The keys the server part reads: its blocks, the final norm, and the tied matrix as head.
        const keys = loadWeights(server, dir);
        assert.ok(keys.every((k) => k.startsWith('model.layers.3.') || k === 'model.norm.weight' || k === 'model.embed_tokens.weight'));
        assert.equal(server.namedParameters().filter(([n]) => n === 'head.weight').length, 1);
        tidy(() => noGrad(() => {
          const x = batch(61);
          const { device } = splitModel(model, 3);
          assertAllClose(server.forward(device.forward(x).hidden).output, model.forward(x).logits, 1e-5, 'tied split');
        }));
      } finally {
        server.dispose();
      }
    } finally {
      model.dispose();
    }
  });
});

test('forward of the model and of every part frees its intermediates (no tidy around the calls)', () => {
  const model = testModel(tinyConfig('llama'));
  const { device, server, deviceTail } = splitModel(model, 1, 1);
  const x = batch(61);
  const step = x.narrow(1, 0, 1);
  const before = liveTensors();
  noGrad(() => {
    model.forward(x).logits.dispose();
    const h = device.forward(x).hidden;
    const mid = server.forward(h).output;
    deviceTail!.forward(mid).output.dispose();
    h.dispose();
    mid.dispose();
    const cache = model.newCache();
    model.forward(x, { cache }).logits.dispose();
    model.forward(step, { cache }).logits.dispose();
    cache.dispose();
  });
  assert.equal(liveTensors(), before, 'only the returned tensors were alive');
  x.dispose();
  step.dispose();
  model.dispose();
});

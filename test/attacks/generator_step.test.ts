// Incremental decoding of RevertLM's generator (KV cache, memory keys/values computed once) gives
// the logits of the full teacher-forced forward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noGrad, tidy, randn, randint, ones, liveTensors } from '../../src/torch/index.js';
import { KVStore } from '../../src/models/index.js';
import { Generator, GENERATOR_DEFAULTS } from '../../src/attacks/revertlm/generator.js';

test('generator steps on a KV cache reproduce the full forward', () => {
  const live0 = liveTensors();
  const V = 30, D = 16, B = 3, T = 9;
  const g = new Generator(D, V, { ...GENERATOR_DEFAULTS, d: 32, heads: 4, ff: 64, layers: 2, memLayers: 1, dropout: 0 });
  g.eval();
  let maxDiff = 0;
  noGrad(() => tidy(() => {
    const mask = ones([B, T], { dtype: 'int64' });
    const mem = g.memory(randn([B, T, D]), randn([B, T, D]), mask);
    const ids = randint(0, V, [B, T]);
    const full = g.forward(g.shiftRight(ids), mem, mask);
    const kv = g.memoryKV(mem);
    const cache = new KVStore();
    const prev = g.shiftRight(ids);
    for (let t = 0; t < T; t++) {
      const step = g.step(prev.select(1, t), t, mem, kv, mask, cache);
      maxDiff = Math.max(maxDiff, step.sub(full.select(1, t)).abs().max().item());
    }
    cache.dispose();
  }));
  g.dispose();
  assert.ok(maxDiff < 1e-4, `step vs forward logits differ by ${maxDiff}`);
  assert.equal(liveTensors(), live0, 'decoding leaked tensors');
});

// Smoke test of `revertlm bench engine` at tiny sizes: the result has every field, the model
// trains, nothing leaks, and the PyTorch peer protocol works when python3-torch is installed.
// (Speed targets are the benchmark's business, never asserted here.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { liveTensors } from '../../src/torch/index.js';
import { benchEngine } from '../../bench/engine.js';

const tiny = { json: true, steps: 2, warmup: 1, batch: 2, seq: 8, matmulRepeats: 2 };
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

test('benchEngine without the peer: numeric fields, nulls for the comparison, no leaked tensors', async () => {
  const before = liveTensors();
  const r = await benchEngine({ ...tiny, noPeer: true });
  assert.equal(liveTensors(), before);
  for (const k of ['matmul_gflops_512', 'matmul_gflops_1024', 'step_ms', 'peak_rss_mb', 'step_cpu_ms'] as const) {
    assert.ok(Number.isFinite(r[k]) && r[k] > 0, `${k} = ${r[k]}`);
  }
  assert.equal(r.step_ms_all.length, 2);
  assert.equal(r.pytorch_step_ms, null);
  assert.equal(r.ratio, null);
  assert.equal(r.matmul_vs_libtorch, null);
  assert.equal(r.peer_note, 'peer skipped');
  assert.equal(r.tokens_per_step, 16);
  assert.ok(r.params > 4_000_000, `params ${r.params}`);
  assert.ok(r.loss_first > 8 && r.loss_first < 10, `initial loss near ln(8000) = 8.99, got ${r.loss_first}`);
  assert.ok(r.loss_last < r.loss_first, 'AdamW steps reduce the loss');
  assert.doesNotThrow(() => JSON.stringify(r));
});

test('benchEngine with the PyTorch peer: interleaved timings, same parameter count, ratios computed', { skip: hasTorch ? false : 'no /usr/bin/python3 with torch', timeout: 120_000 }, async () => {
  const r = await benchEngine(tiny);
  assert.equal(r.peer_note, null);
  assert.ok(r.pytorch_version && /^\d+\.\d+/.test(r.pytorch_version));
  assert.equal(r.pytorch_step_ms_all!.length, 2);
  assert.ok(r.pytorch_step_ms! > 0 && r.ratio! > 0 && r.cpu_ratio! > 0);
  assert.ok(r.libtorch_matmul_gflops_512! > 0 && r.matmul_vs_libtorch! > 0);
  assert.ok(Math.abs(r.ratio! - r.step_ms / r.pytorch_step_ms!) < 0.01, 'ratio is ours / PyTorch');
  assert.equal(r.pytorch_params, r.params, 'the Python model has exactly our architecture');
});

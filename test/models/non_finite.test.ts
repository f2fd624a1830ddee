// A checkpoint with NaN weights loaded silently: `generate` printed empty text and `perplexity --json`
// printed null, both exit 0. Loading now names the tensor; a non-finite likelihood is an error too.
// An absurd hidden_size failed inside libtorch's allocator (`enforce fail at alloc_cpu.cpp`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad } from '../../src/torch/index.js';
import { ModelError, loadModel, randomModel, saveModel, sequenceNll } from '../../src/models/index.js';
import { tinyConfig } from './helpers.js';
import { mailSentences, writeTinyLlama } from '../helpers/tiny_model.js';
import { assertUsageFailure, runCli } from '../helpers/cli.js';

test('loading a checkpoint with a NaN or infinite weight fails and names the tensor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-nan-'));
  try {
    for (const bad of [NaN, Infinity]) {
      const m = randomModel(tinyConfig('llama'), 1);
      const [name, p] = m.namedParameters().find(([n]) => n.includes('layers.1.') && n.endsWith('weight'))!;
      noGrad(() => p.fill_(bad));
      saveModel(dir, m);
      m.dispose();
      assert.throws(() => loadModel(dir), (e: unknown) => e instanceof ModelError && /NaN or infinite/.test(e.message) && e.message.includes('layers.1'), `${bad} in ${name}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a non-finite log-likelihood is an error, not a perplexity of null', () => {
  const m = randomModel(tinyConfig('llama'), 1);
  try {
    // Finite weights whose logits overflow float32.
    noGrad(() => {
      for (const [n, p] of m.namedParameters()) if (n.includes('lm_head') || n.includes('norm')) p.fill_(3e38);
    });
    assert.throws(() => sequenceNll(m, [1, 5, 7, 9]), (e: unknown) => e instanceof ModelError && /not finite/.test(e.message));
  } finally {
    m.dispose();
  }
});

test('perplexity and generate on a NaN model: exit 2, one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-nan-cli-'));
  try {
    const model = writeTinyLlama(dir, mailSentences(20, 1), { nLayers: 2, nKvHeads: 2 });
    const m = loadModel(model);
    noGrad(() => m.namedParameters()[0]![1].fill_(NaN));
    saveModel(model, m);
    m.dispose();
    const data = join(dir, 'texts.txt');
    writeFileSync(data, mailSentences(3, 2).join('\n'));
    assertUsageFailure(assert, runCli(['perplexity', '--model', model, '--data', data, '--json']), /NaN or infinite/);
    assertUsageFailure(assert, runCli(['generate', '--model', model, '--prompt', 'Alice met']), /NaN or infinite/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a config.json far larger than its weights fails on load with the file name, not in the allocator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-bigcfg-'));
  try {
    const m = randomModel(tinyConfig('llama'), 1);
    saveModel(dir, m);
    m.dispose();
    const path = join(dir, 'config.json');
    const cfg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    writeFileSync(path, JSON.stringify({ ...cfg, hidden_size: 1_000_000_000 }));
    assert.throws(() => loadModel(dir), (e: unknown) => e instanceof ModelError && e.message.includes(`${dir}/config.json describes at least`) && /hidden_size 1000000000/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

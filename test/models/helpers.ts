import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Tensor, noGrad, manualSeed } from '../../src/torch/index.js';
import { randomModel, type ModelConfig, type Transformer } from '../../src/models/index.js';

export function tinyConfig(family: 'llama' | 'gpt2', over: Partial<ModelConfig> = {}): ModelConfig {
  const base: ModelConfig = family === 'llama'
    ? {
      family, vocabSize: 61, dModel: 32, nLayers: 4, nHeads: 4, nKvHeads: 2, dFf: 48, maxPositions: 64, normEps: 1e-5,
      ropeTheta: 10000, tieEmbeddings: false, activation: 'silu', attentionBias: false, mlpBias: false,
      bosTokenId: 1, eosTokenId: 2, padTokenId: null,
    }
    : {
      family, vocabSize: 67, dModel: 32, nLayers: 4, nHeads: 4, nKvHeads: 4, dFf: 128, maxPositions: 48, normEps: 1e-5,
      ropeTheta: 0, tieEmbeddings: true, activation: 'gelu_new', attentionBias: true, mlpBias: true,
      bosTokenId: 66, eosTokenId: 66, padTokenId: null,
    };
  return { ...base, ...over };
}

/**
 * A random model whose biases and norm weights are random too (randomModel sets them to 0 / 1,
 * which would hide a mapping bug in those tensors), with larger weights so outputs are not flat.
 */
export function testModel(config: ModelConfig, seed = 1): Transformer {
  const m = randomModel(config, seed);
  manualSeed(seed + 1000);
  noGrad(() => {
    for (const [name, p] of m.namedParameters()) {
      if (name.endsWith('.bias')) p.normal_(0, 0.1);
      else if (/norm\d?\.weight$/.test(name)) p.uniform_(0.5, 1.5);
      else p.normal_(0, 0.15);
    }
  });
  return m;
}

export const FAMILIES = ['llama', 'gpt2'] as const;

/** Runs fn with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-models-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return noGrad(() => {
    const d = a.sub(b);
    const ad = d.abs();
    const m = ad.max();
    const v = m.item();
    for (const t of [d, ad, m]) t.dispose();
    return v;
  });
}

export function assertAllClose(a: Tensor, b: Tensor, tol: number, what: string): void {
  const d = maxAbsDiff(a, b);
  assert.ok(d <= tol, `${what}: max |diff| ${d} > ${tol}`);
}

/** Bitwise equality of two tensors' bytes. */
export function sameBytes(a: Tensor, b: Tensor): boolean {
  return Buffer.from(a.data().buffer).equals(Buffer.from(b.data().buffer));
}

/** Deterministic pseudo-random token ids in [lo, vocab). */
export function tokenIds(n: number, vocab: number, seed: number, lo = 3): number[] {
  const out: number[] = [];
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(lo + (s % (vocab - lo)));
  }
  return out;
}

// Fixtures for the leakage tests: correlated Gaussians with known MI, a toy causal LM and tokenizer
// implementing the model contract (so analyzeLeakage is tested without src/models).
import { Module, Embedding, Linear } from '../../src/torch/nn/index.js';
import { manualSeed, randn, tidy, arange, type Tensor } from '../../src/torch/index.js';
import type { CausalLM, KVCache, ModelConfig, PartForwardOptions, TextTokenizer } from '../../src/models/types.js';

/** d independent pairs (x_i, y_i) with correlation rho: I(X; Y) = −d/2 · log(1 − rho²). */
export function correlatedGaussians(n: number, d: number, rho: number, seed: number): { x: Tensor; y: Tensor; mi: number } {
  manualSeed(seed);
  return tidy(() => {
    const x = randn([n, d]);
    const y = x.mul(rho).add(randn([n, d]).mul(Math.sqrt(1 - rho * rho)));
    return { x, y, mi: (-d / 2) * Math.log(1 - rho * rho) };
  });
}

export function toyConfig(o: Partial<ModelConfig> = {}): ModelConfig {
  return {
    family: 'llama', vocabSize: 40, dModel: 12, nLayers: 3, nHeads: 2, nKvHeads: 2, dFf: 24, maxPositions: 64,
    normEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true, activation: 'silu', attentionBias: false, mlpBias: false,
    bosTokenId: 1, eosTokenId: 2, padTokenId: 0, ...o,
  };
}

/**
 * A deterministic toy causal LM: token embeddings, then blocks h ← h + tanh(W h) + ½·(causal mean
 * of h over the prefix) (so hidden states depend on context), tied output head.
 * hfConvention: return L + 1 hidden states (embeddings first) instead of the contract's L.
 */
export class ToyLM extends Module implements CausalLM {
  readonly emb: Embedding;
  readonly blocks: Linear[];
  constructor(readonly config: ModelConfig, seed: number, readonly hfConvention = false) {
    super();
    manualSeed(seed);
    this.emb = this.registerModule('emb', new Embedding(config.vocabSize, config.dModel));
    this.blocks = Array.from({ length: config.nLayers }, (_, i) => this.registerModule(`b${i}`, new Linear(config.dModel, config.dModel)));
  }
  get embeddingMatrix(): Tensor {
    return this.emb.weight;
  }
  embed(ids: Tensor): Tensor {
    return this.emb.forward(ids);
  }
  forward(ids: Tensor, o: PartForwardOptions = {}): { logits: Tensor; hiddenStates?: Tensor[] } {
    let h = this.embed(ids);
    const states: Tensor[] = this.hfConvention ? [h] : [];
    const counts = arange(1, ids.size(1) + 1, 1, { dtype: 'float32' }).view(1, -1, 1);
    for (const b of this.blocks) {
      h = h.add(b.forward(h).tanh()).add(h.cumsum(1).div(counts).mul(0.5));
      states.push(h);
    }
    const logits = h.matmul(this.emb.weight.T);
    return o.outputHiddenStates ? { logits, hiddenStates: states } : { logits };
  }
  newCache(): KVCache {
    return { length: 0, dispose() {} };
  }
}

/** Characters → ids 3..vocab−1 (pad 0, bos 1, eos 2). */
export class ToyTokenizer implements TextTokenizer {
  readonly bosTokenId = 1;
  readonly eosTokenId = 2;
  readonly padTokenId = 0;
  constructor(readonly vocabSize: number) {}
  encode(text: string, o: { addBos?: boolean; addEos?: boolean } = {}): number[] {
    const ids = [...text].map((c) => 3 + (c.codePointAt(0)! % (this.vocabSize - 3)));
    return [...(o.addBos ? [1] : []), ...ids, ...(o.addEos ? [2] : [])];
  }
  decode(ids: number[]): string {
    return ids.filter((i) => i > 2).map((i) => String.fromCharCode(i)).join('');
  }
}

export const TOY_TEXTS = [
  'the cat sat on the mat',
  'a dog ran in the park',
  'once upon a time there was a fox',
  'the sun is bright today',
  'she likes to read books at night',
  'we went to the sea and swam',
  'birds sing in the morning light',
  'the old man walked slowly home',
  'rain fell on the quiet town',
  'he found a key under the stone',
  'the cat sat on the mat again',
  'children played with a red ball',
];


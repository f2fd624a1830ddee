// The model layer's public contract. Split runtime, leakage analysis and attacks code against
// these types only; src/models implements them for the families registered in src/models/families.
import type { Tensor } from '../torch/index.js';
import type { Module } from '../torch/nn/index.js';

/** The name of a registered model family (src/models/families), e.g. 'llama' or 'gpt2'. */
export type Family = string;

/** Normalised architecture config (read from / written to Hugging Face config.json). */
export interface ModelConfig {
  family: Family;
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** Width of one attention head when it is not dModel / nHeads (Llama's `head_dim`); absent = dModel / nHeads. */
  headDim?: number;
  dFf: number;
  maxPositions: number;
  normEps: number;
  /** Rotary families only (0 otherwise). */
  ropeTheta: number;
  /** Rotary frequency scaling (Hugging Face `rope_scaling`); absent = plain RoPE. */
  ropeScaling?: RopeScaling;
  tieEmbeddings: boolean;
  /** 'silu' (Llama), 'gelu_new' / 'gelu' (GPT-2). */
  activation: 'silu' | 'gelu_new' | 'gelu';
  attentionBias: boolean;
  mlpBias: boolean;
  bosTokenId: number | null;
  eosTokenId: number | null;
  padTokenId: number | null;
}

/**
 * Hugging Face's `rope_scaling` kinds that change only the rotary frequencies: `linear` divides every
 * frequency by `factor`; `llama3` (Llama 3.1 and later) divides the low frequencies (wavelengths above
 * originalMaxPositions / lowFreqFactor) by `factor`, keeps the high ones (below originalMaxPositions /
 * highFreqFactor) and interpolates between.
 */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

/** Per-layer key/value cache for incremental decoding; owned by the part that made it. */
export interface KVCache {
  /** Number of positions already cached. */
  readonly length: number;
  dispose(): void;
}

export interface PartForwardOptions {
  /** [B, T] (or [B, past+T] with a cache) 1 = real token, 0 = padding. */
  attentionMask?: Tensor;
  /** Continue from this cache (it is extended in place). */
  cache?: KVCache;
  /** Collect the residual stream after every block this part runs. */
  outputHiddenStates?: boolean;
}

/**
 * Device part of a split at k: input embeddings + blocks [0, k).
 * forward(ids) returns H_k, the tensor the device sends to the server: [B, T, dModel].
 */
export interface DevicePart extends Module {
  readonly config: ModelConfig;
  readonly splitPoint: number;
  /** Input embeddings the blocks consume: [B, T, dModel] (token + learned position embeddings where the family has them). */
  embed(ids: Tensor, positionOffset?: number): Tensor;
  /** The token embedding matrix E [vocab, dModel]. */
  readonly embeddingMatrix: Tensor;
  forward(ids: Tensor, o?: PartForwardOptions): { hidden: Tensor; hiddenStates?: Tensor[] };
  /** Same as forward but from input embeddings (soft tokens), e.g. for optimisation attacks. */
  forwardEmbeds(embeds: Tensor, o?: PartForwardOptions): { hidden: Tensor; hiddenStates?: Tensor[] };
  newCache(): KVCache;
}

/** Server part of a split at k: blocks [k, L) (+ final norm + head unless U-shaped). */
export interface ServerPart extends Module {
  readonly config: ModelConfig;
  readonly splitPoint: number;
  forward(hidden: Tensor, o?: PartForwardOptions & { positionOffset?: number }): { output: Tensor; hiddenStates?: Tensor[] };
  newCache(): KVCache;
}

/** A causal LM: the full model, splittable. */
export interface CausalLM extends Module {
  readonly config: ModelConfig;
  forward(ids: Tensor, o?: PartForwardOptions): { logits: Tensor; hiddenStates?: Tensor[] };
  embed(ids: Tensor, positionOffset?: number): Tensor;
  readonly embeddingMatrix: Tensor;
  newCache(): KVCache;
}

/** Tokenizer wrapper over @huggingface/tokenizers. */
export interface TextTokenizer {
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  encode(text: string, o?: { addBos?: boolean; addEos?: boolean }): number[];
  decode(ids: number[], o?: { skipSpecialTokens?: boolean }): string;
  /** Each id's bytes (null: special tokens); tokenizers that cannot tell leave it out. */
  tokenBytes?(): readonly (Uint8Array | null)[];
  /** Ids the tokenizer never emits; tokenizers that cannot tell leave it out. */
  unreachableTokens?(): ReadonlySet<number>;
}

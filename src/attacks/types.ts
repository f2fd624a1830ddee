// The attack contract. Threat model (see README.md): an honest-but-curious server sees H_k(x)
// at split point k (and, during fine-tuning, the gradients it returns); knows the architecture
// and pretrained weights of the device part (and of the full pretrained model); holds public
// auxiliary text disjoint from the victim's. It never sees x. Attacks therefore train only on
// AuxData and, at inference, receive only an InterceptedBatch, which by construction holds no text.
import type { Tensor } from '../torch/index.js';
import type { CausalLM, DevicePart, TextTokenizer } from '../models/types.js';

/** What the server recorded for one batch of device traffic. Never text, never token ids. */
export interface InterceptedBatch {
  /** H_k(x): the activations the device sent, [B, T, dModel] float32. */
  readonly hidden: Tensor;
  /** [B, T] int64, 1 = real position, 0 = padding (the split protocol sends it with H_k). */
  readonly attentionMask: Tensor;
  /** Split point k the capture was taken at. */
  readonly splitPoint: number;
  /**
   * Fine-tuning traffic beyond H_k, by name (see FINETUNE_TENSORS). In the U-shape the server sends
   * its output to the device and receives the gradient of the device's loss with respect to it.
   */
  readonly gradients?: ReadonlyMap<string, Tensor>;
  /** U-shape only: blocks (plus final norm and head) the device runs after the server (from `hello`). */
  readonly tailBlocks?: number;
}

/** Names of the fine-tuning tensors a U-shape training step puts on the wire (InterceptedBatch.gradients). */
export const FINETUNE_TENSORS = {
  /** The server's output O = blocks [k, L - m)(H_k), sent to the device's tail: [B, T, dModel]. */
  serverOutput: 'server_output',
  /** ∂L/∂O the device sends back; L is the device's next-token loss, so it depends on the labels: [B, T, dModel]. */
  serverOutputGrad: 'server_output_grad',
} as const;

/** One adapter shape as split fine-tuning announces it (alpha defaults to 2 × rank, as the CLI). */
export interface AnnouncedAdapter {
  readonly rank: number;
  readonly alpha?: number;
  readonly targets: readonly string[];
}

/** A reader of intercepted traffic (simulated now; the split runtime's CaptureReader later). */
export interface InterceptSource {
  readonly splitPoint: number;
  /**
   * LoRA shapes the split fine-tuning session announced for the device's adapters (rank, targets),
   * used by adapter estimation; absent = unknown (a small search over the usual shapes). A fact of
   * the captured session, not of the attacker: one trained attacker serves captures of several.
   */
  readonly announcedAdapters?: readonly AnnouncedAdapter[];
  /** Number of captured sequences. */
  readonly size: number;
  /** Yields the capture in order, at most batchSize sequences per batch. The batches are owned by the source. */
  batches(batchSize: number): Iterable<InterceptedBatch>;
  dispose(): void;
}

/** Public auxiliary text the server holds (disjoint from the victim's). */
export interface AuxData {
  readonly texts: readonly string[];
  /** Free-form provenance for reports, e.g. "wikitext2-test.raw (lines)". */
  readonly source?: string;
}

/** Everything the server knows besides traffic: the device part, the tokenizer, the pretrained model. */
export interface ServerKnowledge {
  /** The device part at split k with its pretrained weights (architecture + weights are public). */
  readonly device: DevicePart;
  readonly tokenizer: TextTokenizer;
  /** The full pretrained model (the server holds the weights); enables the language prior. */
  readonly lm?: CausalLM;
  /**
   * Whether every captured sequence starts with BOS (part of the public protocol); default: whether
   * the tokenizer adds BOS by itself. Set false for captures of training streams cut mid-text.
   */
  readonly addBos?: boolean;
  /**
   * What the victim's device actually sends, when the attacker knows (or guesses) a defense: the
   * adaptive attacker's simulation of it, e.g. a DefendedDevice. Learned attacks train on its output
   * (fresh noise every batch); white-box steps (re-encoding, optimisation) keep using `device`, the
   * clean pretrained part, whose output is what noisy traffic scatters around. Default: `device`.
   */
  readonly trafficDevice?: DevicePart;
}

/** Requested training budget; every field is optional and each attack documents its defaults. */
export interface BudgetSpec {
  /** Auxiliary training windows (sequences) to use. */
  examples: number;
  /** Optimiser steps (total over all trained parts). */
  steps: number;
  /** Sequences per step. */
  batchSize: number;
  /** Tokens per training window, BOS included. */
  maxTokens: number;
}

/** What an attack actually spent. */
export interface Budget {
  /** Distinct auxiliary training sequences seen. */
  examples: number;
  /** Optimiser steps (training), summed over trained parts. */
  steps: number;
  /** Trainable parameters of the learned attacker (0 for training-free attacks). */
  parameters: number;
  /** Wall-clock seconds spent in fit(). */
  seconds: number;
  /** Per-part details (e.g. projector / generator), free-form. */
  parts?: Record<string, { examples: number; steps: number; parameters: number; seconds: number }>;
}

export interface Progress {
  attack: string;
  /** Which part is training, e.g. "sip", "projector[fold 1/2]". */
  phase: string;
  step: number;
  totalSteps: number;
  loss: number;
  seconds: number;
}

export interface FitOptions {
  budget?: Partial<BudgetSpec>;
  seed?: number;
  onProgress?: (p: Progress) => void;
}

/** One reconstruction per sequence of the batch. */
export interface Inversion {
  /** Recovered token ids per sequence (real positions only, BOS included when the protocol adds it). */
  ids: number[][];
  /** Decoded texts (special tokens skipped). */
  texts: string[];
}

/** What adapt() did, for reports. */
export interface AdaptReport {
  /** Estimation rounds run (0: nothing to adapt, e.g. the traffic already matches the known part). */
  rounds: number;
  seconds: number;
  /** Mean re-encoding mismatch of the reconstructions with the known part and with the estimate. */
  mismatchBefore?: number;
  mismatchAfter?: number;
  /** Free-form details (chosen rank/targets, per-round figures). */
  details?: Record<string, unknown>;
}

export interface Attack {
  readonly name: string;
  /** Trains on auxiliary data only (no-op for training-free attacks). */
  fit(aux: AuxData, o?: FitOptions): Promise<Budget>;
  invert(batch: InterceptedBatch): Inversion;
  /**
   * Optional corpus-level step, called once with the whole capture before invert(): reads every
   * captured batch (wire fields only), e.g. to estimate the victim's personalised device part from
   * many windows. invert() works without it.
   */
  adapt?(source: InterceptSource): Promise<AdaptReport>;
  /**
   * Optional: adapt(source), then every window of the capture inverted (in source order), reusing
   * what adapting already computed. Equivalent to adapt() followed by invert() of every batch.
   */
  invertAll?(source: InterceptSource): Promise<{ inversion: Inversion; report: AdaptReport }>;
  /**
   * The device part the attack currently re-encodes with (its estimate of the victim's, after
   * adapt()), so that an evaluator holding the true text can measure how much drift it explains.
   */
  deviceEstimate?(): DevicePart;
  /** Writes the trained attacker to dir (created if needed), atomically per file. */
  save(dir: string): void;
  /** Restores an attacker written by save(); the same knowledge (device part, tokenizer) must be supplied. */
  load(dir: string): void;
  /** What fit() spent (zeros before fit or for training-free attacks). */
  budget(): Budget;
  dispose(): void;
}

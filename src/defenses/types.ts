import type { Tensor } from '../torch/index.js';

/** Where a defense acts: on the input embeddings before the device blocks, on the activations
 * that leave the device, or on the training objective (NoPeek). */
export type DefenseStage = 'embeddings' | 'activations' | 'training';

export interface PrivacyGuarantee {
  epsilon: number;
  delta: number;
  /** How epsilon reads: per release of one token vector, or per unit of embedding distance (d_χ). */
  unit: 'per-token-release' | 'per-unit-distance';
}

export interface DefenseContext {
  /** [vocab, D] token embedding matrix, for snapping to the nearest token (d_χ). */
  embeddingMatrix?: Tensor;
}

/**
 * A device-side transform applied before anything leaves the device. A level of 0 is the identity.
 * apply() returns a new tensor and never modifies its input.
 */
export interface Defense {
  readonly name: DefenseName;
  readonly level: number;
  readonly stage: DefenseStage;
  apply(x: Tensor, ctx?: DefenseContext): Tensor;
  privacy(): PrivacyGuarantee | null;
  describe(): string;
  /**
   * Optional device-side term of the training objective (NoPeek): embeds are the input embeddings
   * [B, T, D], hidden the activations sent [B, T, D], mask [B, T]. The server never sees it.
   */
  trainingLoss?(embeds: Tensor, hidden: Tensor, mask?: Tensor): Tensor;
}

export type DefenseName = 'gaussian' | 'dchi' | 'topk' | 'dropout' | 'quantize' | 'nopeek';

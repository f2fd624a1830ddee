// What a model family is: everything the generic model code asks instead of testing the family's
// name. One spec per family lives next to this file and is listed in ./index.ts.
import type { Tensor, nn } from '../../torch/index.js';
import type { ModelConfig } from '../types.js';

/** A norm module: the pre-attention, pre-MLP and final norm of a block stack. */
export type Norm = nn.Module & { forward(x: Tensor): Tensor };

/** Where one of our parameters comes from in an HF checkpoint. */
export interface HfSource {
  key: string;
  /** Expected shape of the HF tensor. */
  shape: number[];
  /** HF tensor → ours (a view is fine; it is copied into the parameter). Default: as is. */
  take?: (t: Tensor) => Tensor;
  /** Absent from the checkpoint → zeros (Qwen2-style checkpoints have no o_proj bias). */
  optional?: boolean;
}

/** How our parameter names map to a family's Hugging Face checkpoint keys and layouts. */
export interface FamilyLayout {
  /** The source of our parameter `name` whose shape is `shape`. */
  source(name: string, shape: number[]): HfSource;
  /** Our full-model state dict → HF tensors (new tensors where the layout differs). */
  toHf(sd: Map<string, Tensor>): Map<string, Tensor>;
}

/** The fixed choices of a freshly initialised model (pretraining). */
export type FreshChoices = Pick<ModelConfig, 'ropeTheta' | 'tieEmbeddings' | 'activation' | 'attentionBias' | 'mlpBias'>;

export interface FamilySpec {
  /** `ModelConfig.family` and the pretraining `--family` value. */
  readonly name: string;
  /** The family's own spelling, for messages ('GPT-2'). */
  readonly title: string;
  /** Hugging Face `architectures[0]` values read as this family. */
  readonly architectures: readonly string[];
  /** config.json `model_type` → architecture, for configs that name no architecture. */
  readonly modelTypes: Readonly<Record<string, string>>;
  /** The normalised config of a config.json of one of `architectures` (throws ModelError naming `where`). */
  fromHf(json: unknown, architecture: string, where: string): ModelConfig;
  /** The config.json of a config of this family, with the family's real field names. */
  toHf(c: ModelConfig): Record<string, unknown>;
  /** Block and final norm. */
  norm(c: ModelConfig): Norm;
  /** Gated MLP down(act(gate(x)) · up(x)), or plain down(act(up(x))). */
  readonly gatedMlp: boolean;
  /** Rotary embeddings on q/k in every block, or a learned table added to the token embeddings. */
  readonly positions: 'rotary' | 'learned';
  /** Whether a config may have fewer key/value heads than query heads. */
  readonly groupedQuery: boolean;
  /** The layout of a checkpoint being read (`checkpoint` tells which key variant it uses). */
  loadLayout(c: ModelConfig, checkpoint: { keys(): string[] }): FamilyLayout;
  /** The layout saveModel writes. */
  saveLayout(c: ModelConfig): FamilyLayout;
  /** A fresh model of this family (pretraining). */
  readonly fresh: {
    /** Default MLP width for hidden size d … */
    dFf(d: number): number;
    /** … and how help texts describe it. */
    dFfRule: string;
    choices: FreshChoices;
  };
}

/** Splits 'layers.3.attn.q.weight' into [3, 'attn.q.weight']; null for non-block names. */
export function blockName(name: string): [number, string] | null {
  const m = /^layers\.(\d+)\.(.+)$/.exec(name);
  return m ? [Number(m[1]), m[2]!] : null;
}

/** Width of one attention head: its own `headDim` where the config gives one, else dModel / nHeads. */
export function headDimOf(s: { dModel: number; nHeads: number; headDim?: number }): number {
  return s.headDim ?? s.dModel / s.nHeads;
}

/** The family's rule that attention heads of this shape break, or null. */
export function shapeProblem(f: FamilySpec, s: { dModel: number; nHeads: number; nKvHeads: number; headDim?: number }): string | null {
  const headDim = headDimOf(s);
  if (s.headDim !== undefined && !f.groupedQuery) return `${f.title} has no separate head width (head_dim)`;
  if (f.positions === 'rotary' && headDim % 2 !== 0) return `head dimension ${headDim} must be even for RoPE`;
  if (!f.groupedQuery && s.nKvHeads !== s.nHeads) return `${f.title} has no grouped-query attention (key/value heads must equal heads)`;
  return null;
}

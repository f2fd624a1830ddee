// How our parameter names map to a family's Hugging Face checkpoint keys and layouts.
import type { Tensor } from '../torch/index.js';
import type { ModelConfig } from './types.js';

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

export interface FamilyLayout {
  /** The source of our parameter `name` whose shape is `shape`. */
  source(name: string, shape: number[]): HfSource;
  /** Our full-model state dict → HF tensors (new tensors where the layout differs). */
  toHf(sd: Map<string, Tensor>): Map<string, Tensor>;
}

/** Splits 'layers.3.attn.q.weight' into [3, 'attn.q.weight']; null for non-block names. */
export function blockName(name: string): [number, string] | null {
  const m = /^layers\.(\d+)\.(.+)$/.exec(name);
  return m ? [Number(m[1]), m[2]!] : null;
}

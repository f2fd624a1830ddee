// Functional ops (torch.nn.functional). Names follow PyTorch; options are objects.
import { native } from './native.js';
import { Tensor } from './tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';

export const softmax = (x: Tensor, dim = -1) => new Tensor(native.softmax(x.handle, dim));
export const logSoftmax = (x: Tensor, dim = -1) => new Tensor(native.logSoftmax(x.handle, dim));

export function layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  return new Tensor(native.layerNorm(x.handle, normalizedShape, weight?.handle ?? null, bias?.handle ?? null, eps));
}
/** x · rsqrt(mean(x², -1) + eps) · weight (Llama's RMSNorm). */
export function rmsNorm(x: Tensor, weight?: Tensor | null, eps = 1e-6): Tensor {
  return new Tensor(native.rmsNorm(x.handle, weight?.handle ?? null, eps));
}
/** GELU; approximate 'tanh' is GPT-2's gelu_new. */
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none') => new Tensor(native.gelu(x.handle, approximate));
export const silu = (x: Tensor) => new Tensor(native.silu(x.handle));
export const relu = (x: Tensor) => new Tensor(native.relu(x.handle));
export const sigmoid = (x: Tensor) => x.sigmoid();
export const tanh = (x: Tensor) => x.tanh();

/** Inverted dropout: identity when !train or p == 0. */
export function dropout(x: Tensor, p: number, train: boolean): Tensor {
  if (p < 0 || p >= 1) throw new RangeError(`dropout probability must be in [0, 1), got ${p}`);
  return new Tensor(native.dropout(x.handle, p, train && p > 0));
}

export function embedding(weight: Tensor, ids: Tensor, paddingIdx?: number): Tensor {
  return new Tensor(native.embedding(weight.handle, ids.handle, paddingIdx ?? null));
}

export interface CrossEntropyOptions {
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: Reduction;
}
/** Cross-entropy of logits [N, C] (or [N, C, ...]) against class indices [N]. */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  return new Tensor(
    native.crossEntropy(logits.handle, target.handle, o.ignoreIndex ?? -100, o.labelSmoothing ?? 0, o.reduction ?? 'mean'),
  );
}
export function nllLoss(logp: Tensor, target: Tensor, o: { ignoreIndex?: number; reduction?: Reduction } = {}): Tensor {
  return new Tensor(native.nllLoss(logp.handle, target.handle, o.ignoreIndex ?? -100, o.reduction ?? 'mean'));
}
export const mseLoss = (a: Tensor, b: Tensor, reduction: Reduction = 'mean') =>
  new Tensor(native.mseLoss(a.handle, b.handle, reduction));
export const cosineSimilarity = (a: Tensor, b: Tensor, dim = -1, eps = 1e-8) =>
  new Tensor(native.cosineSimilarity(a.handle, b.handle, dim, eps));
export const binaryCrossEntropyWithLogits = (logits: Tensor, target: Tensor, reduction: Reduction = 'mean') =>
  new Tensor(native.bceWithLogits(logits.handle, target.handle, reduction));

export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return new Tensor(native.linear(x.handle, weight.handle, bias?.handle ?? null));
}
/** Pairwise p-norm distances between rows of a [.., N, D] and b [.., M, D]. */
export const cdist = (a: Tensor, b: Tensor, p = 2) => new Tensor(native.cdist(a.handle, b.handle, p));

export interface AttentionOptions {
  /** bool, broadcastable to [B, H, Tq, Tk]; true = may attend. */
  mask?: Tensor | null;
  causal?: boolean;
  dropout?: number;
  train?: boolean;
}
/** Scaled dot-product attention over [B, H, T, D]. Causal masking aligns the last query with the last key. */
export function attention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): Tensor {
  return new Tensor(native.attention(q.handle, k.handle, v.handle, o.mask?.handle ?? null, o.causal ?? false, o.dropout ?? 0, o.train ?? false));
}

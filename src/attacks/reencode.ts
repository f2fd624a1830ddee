// White-box pieces: the server holds the device part's weights, so it can run any candidate text
// (or soft tokens) through it and compare with the intercepted H_k.
import { Tensor, noGrad, tidy, zeros, arange } from '../torch/index.js';
import type { DevicePart } from '../models/types.js';

/**
 * The position-dependent part of the device's input embeddings, [1, T, D]: zero for Llama
 * (rotary positions act inside attention), the learned position table for GPT-2.
 */
export function positionalPart(device: DevicePart, T: number): Tensor {
  return noGrad(() =>
    tidy(() => {
      const z = zeros([1, T], { dtype: 'int64' });
      return device.embed(z).sub(device.embeddingMatrix.narrow(0, 0, 1).unsqueeze(0));
    }),
  );
}

/** Input embeddings of soft tokens: probs [B, T, V] · E (+ positions). Differentiable in probs. */
export function softEmbeds(device: DevicePart, probs: Tensor, pos?: Tensor): Tensor {
  return tidy(() => {
    const e = probs.matmul(device.embeddingMatrix);
    return pos ? e.add(pos) : e;
  });
}

export interface DistanceOptions {
  /** Ignore position 0 (BOS: identical for every candidate). */
  skipFirst: boolean;
  /** Weight of the relative squared L2 term next to (1 - cosine). */
  l2Weight?: number;
}

/**
 * Per-position mismatch [N, T] between candidate activations and observed ones:
 * (1 - cos) + w·|Δ|²/|H|², zero at padding (and at position 0 with skipFirst).
 */
export function positionDistance(pred: Tensor, obs: Tensor, mask: Tensor, o: DistanceOptions): Tensor {
  return tidy(() => {
    const dot = pred.mul(obs).sum(-1);
    const np = pred.norm(2, -1), no = obs.norm(2, -1);
    const cos = dot.div(np.mul(no).clamp(1e-8));
    const rel = pred.sub(obs).square().sum(-1).div(no.square().clamp(1e-8));
    const d = cos.rsub(1).add(rel.mul(o.l2Weight ?? 1));
    let m = mask.gt(0);
    if (o.skipFirst) m = m.logicalAnd(arange(mask.size(1)).gt(0).unsqueeze(0));
    return d.mul(m.float());
  });
}

/** Mean mismatch per sequence [N] over counted positions. */
export function sequenceDistance(pred: Tensor, obs: Tensor, mask: Tensor, o: DistanceOptions): Tensor {
  return tidy(() => {
    let m = mask.gt(0);
    if (o.skipFirst) m = m.logicalAnd(arange(mask.size(1)).gt(0).unsqueeze(0));
    return positionDistance(pred, obs, mask, o).sum(1).div(m.float().sum(1).clamp(1));
  });
}

/**
 * Re-encodes candidate token sequences ids [N, T] with the device part and returns their mean
 * mismatch [N] against observed activations obs [N, T, D] (rows already aligned with the candidates).
 */
export function reencodeDistance(device: DevicePart, ids: Tensor, mask: Tensor, obs: Tensor, o: DistanceOptions): number[] {
  return noGrad(() =>
    tidy(() => sequenceDistance(device.forward(ids, { attentionMask: mask }).hidden, obs, mask, o).toNumbers()),
  );
}

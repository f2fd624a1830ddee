// How far re-encoding reconstructed ids with a device part lands from the observed states.
import { Tensor, noGrad, tidy, cat } from '../../torch/index.js';
import type { DevicePart } from '../../models/index.js';
import type { InterceptedBatch } from '../types.js';
import { positionDistance } from '../reencode.js';

/** Per-position mismatch [B, T] of ids re-encoded by a device part against observed states (0 at padding). */
export function mismatchOf(device: DevicePart, ids: Tensor, batch: InterceptedBatch, l2Weight: number): Tensor {
  return noGrad(() => tidy(() => positionDistance(device.forward(ids, { attentionMask: batch.attentionMask }).hidden, batch.hidden, batch.attentionMask, { skipFirst: false, l2Weight })));
}

/** The q-quantile of the real positions' mismatches (q = 0.5: the median). */
export function quantileOf(mm: readonly Tensor[], masks: readonly Tensor[], q = 0.5): number {
  const vals = noGrad(() => tidy(() => cat(mm.map((m, i) => m.maskedSelect(masks[i]!.gt(0))), 0).toNumbers()));
  vals.sort((a, b) => a - b);
  return vals.length ? vals[Math.min(vals.length - 1, Math.floor(q * vals.length))]! : 0;
}

/** Median re-encoding mismatch of reconstructed ids (one [B, T] per batch) with a device part. */
export function medianMismatch(device: DevicePart, ids: readonly Tensor[], batches: readonly InterceptedBatch[], l2Weight: number): number {
  const mm = ids.map((x, i) => mismatchOf(device, x, batches[i]!, l2Weight));
  try {
    return quantileOf(mm, batches.map((b) => b.attentionMask));
  } finally {
    for (const m of mm) m.dispose();
  }
}

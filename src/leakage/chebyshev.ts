// Blockwise Chebyshev (max-norm) distances, the metric of the KSG and Kozachenko–Leonenko
// estimators. libtorch's cdist accepts p = ∞ (a vectorised kernel, ~8x faster than
// broadcasting); if a libtorch build rejects it we fall back to broadcasting in chunks.
import { F, cat, tidy, type Tensor } from '../torch/index.js';

let cdistInfOk: boolean | null = null;

/** ‖a_i − b_j‖_∞ for rows of a [n, d] and b [m, d]: [n, m]. */
export function chebyshev(a: Tensor, b: Tensor): Tensor {
  if (cdistInfOk !== false) {
    try {
      const d = F.cdist(a, b, Infinity);
      cdistInfOk = true;
      return d;
    } catch (e) {
      if (cdistInfOk === true) throw e;
      cdistInfOk = false;
    }
  }
  return chebyshevBroadcast(a, b);
}

/** Reference path: (a[:, None, :] − b[None, :, :]).abs().amax(−1), a few rows of a at a time. */
export function chebyshevBroadcast(a: Tensor, b: Tensor, maxElements = 1 << 24): Tensor {
  const [n, d] = a.shape as [number, number];
  const m = b.size(0);
  const rows = Math.max(1, Math.floor(maxElements / Math.max(1, m * d)));
  return tidy(() => {
    const parts: Tensor[] = [];
    const bb = b.unsqueeze(0);
    for (let i = 0; i < n; i += rows) {
      const blk = a.narrow(0, i, Math.min(rows, n - i)).unsqueeze(1);
      parts.push(blk.sub(bb).abs().amax(-1));
    }
    return parts.length === 1 ? parts[0]! : cat(parts);
  });
}

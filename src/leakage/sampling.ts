// Seeded index sampling shared by the estimators (deterministic for a seed, independent of
// libtorch's generator).
import { mulberry32 } from '../data/prng.js';
import { tensor, type Tensor } from '../torch/index.js';

/** A seeded random permutation of 0..n−1 (Fisher–Yates over mulberry32). */
export function permutation(n: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

/** Disjoint random split of 0..n−1: the first `fraction` of a seeded permutation, and the rest. */
export function splitIndices(n: number, seed: number, fraction = 0.5): { fit: Int32Array; held: Int32Array } {
  const p = permutation(n, seed);
  const cut = Math.round(n * fraction);
  return { fit: p.slice(0, cut), held: p.slice(cut) };
}

/** Rows of x [N, ...] at the given indices. */
export function rows(x: Tensor, idx: Int32Array): Tensor {
  const i = tensor(idx, [idx.length], { dtype: 'int32' });
  try {
    return x.indexSelect(0, i);
  } finally {
    i.dispose();
  }
}

/** Elements of a host array at the given indices. */
export function pick(a: Int32Array, idx: Int32Array): Int32Array {
  const out = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = a[idx[i]!]!;
  return out;
}

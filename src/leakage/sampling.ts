// Seeded index sampling shared by the estimators (deterministic for a seed, independent of
// libtorch's generator).
import { permutation } from '../util/prng.js';
import { tensor, type Tensor } from '../torch/index.js';

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

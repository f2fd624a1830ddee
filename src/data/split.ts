// splitDisjoint: seeded partition of texts into sets that share no text (e.g. the victim's
// training set vs. held-out non-members for membership/leakage measurements).

import { InputError } from './errors.js';
import { seededShuffle } from '../util/prng.js';

/**
 * Shuffles the distinct texts with `seed` and cuts them into consecutive slices of the given
 * fractions. Duplicates are removed first, so no text can land in two sets. If the fractions
 * sum to 1 every text is used (sizes by largest remainder); if less, the rest is left out.
 */
export function splitDisjoint(texts: readonly string[], fractions: readonly number[], seed: number): string[][] {
  if (fractions.length === 0) throw new InputError('splitDisjoint got no fractions', 'pass e.g. [0.8, 0.2]');
  const bad = fractions.find((f) => !(Number.isFinite(f) && f > 0));
  if (bad !== undefined) throw new InputError(`invalid split fraction ${bad}`, 'every fraction must be a number above 0');
  const sum = fractions.reduce((a, b) => a + b, 0);
  if (sum > 1 + 1e-9) throw new InputError(`split fractions sum to ${sum}, above 1`, 'make the fractions sum to at most 1');
  if (!Number.isInteger(seed)) throw new InputError(`invalid split seed ${seed}`, 'pass an integer seed');

  const pool = seededShuffle([...new Set(texts)], seed);
  const n = pool.length;
  const exact = fractions.map((f) => f * n);
  const sizes = exact.map(Math.floor);
  if (Math.abs(sum - 1) <= 1e-9) {
    // Hand the leftover texts to the largest remainders so that all n are used.
    const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (let k = 0, left = n - sizes.reduce((a, b) => a + b, 0); k < left; k++) sizes[order[k % order.length]![1]]!++;
  }
  const empty = sizes.findIndex((s) => s === 0);
  if (empty >= 0) {
    throw new InputError(
      `split ${empty} (fraction ${fractions[empty]}) would be empty: only ${n} distinct texts`,
      'load more samples or raise that fraction',
    );
  }
  const out: string[][] = [];
  let start = 0;
  for (const size of sizes) {
    out.push(pool.slice(start, start + size));
    start += size;
  }
  return out;
}

// Key/value cache for incremental decoding: per block, the keys and values of every position seen.
import { type Tensor, cat, keep, noGrad, tidy } from '../torch/index.js';
import type { KVCache } from './types.js';

export class KVStore implements KVCache {
  readonly #layers = new Map<number, [Tensor, Tensor]>();
  #length = 0;

  /** Number of positions already cached. */
  get length(): number {
    return this.#length;
  }

  /**
   * Appends one block's new keys/values [B, Hkv, T, hd] and returns all of them so far.
   * The returned tensors belong to the cache: do not dispose them.
   */
  append(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const old = this.#layers.get(layer);
    const next: [Tensor, Tensor] = old ? [cat([old[0], k], 2), cat([old[1], v], 2)] : [k.contiguous(), v.contiguous()];
    keep(next[0]);
    keep(next[1]);
    old?.[0].dispose();
    old?.[1].dispose();
    this.#layers.set(layer, next);
    return next;
  }

  /** Called once per forward by the part that owns the cache, after every block appended. */
  advance(n: number): void {
    this.#length += n;
  }

  /**
   * A new cache whose row i is row rows[i] of this one (rows [N] int64; repeats allowed): to expand
   * a batch into candidates, or to keep the chosen ones. This cache is left unchanged.
   */
  select(rows: Tensor): KVStore {
    const out = new KVStore();
    noGrad(() => {
      for (const [layer, [k, v]] of this.#layers) {
        out.#layers.set(layer, [keep(tidy(() => k.indexSelect(0, rows))), keep(tidy(() => v.indexSelect(0, rows)))]);
      }
    });
    out.#length = this.#length;
    return out;
  }

  /** A new cache holding only this one's last position (every row): what one step added. */
  lastPosition(): KVStore {
    if (this.#length === 0) throw new Error('lastPosition: the cache is empty');
    const out = new KVStore();
    noGrad(() => {
      for (const [layer, [k, v]] of this.#layers) {
        const last = (x: Tensor) => keep(tidy(() => x.narrow(2, x.size(2) - 1, 1).contiguous()));
        out.#layers.set(layer, [last(k), last(v)]);
      }
    });
    out.#length = 1;
    return out;
  }

  /** Appends `next`'s positions (same rows, same blocks) after this cache's own. */
  extend(next: KVStore): void {
    noGrad(() => {
      for (const [layer, [k, v]] of next.#layers) tidy(() => { this.append(layer, k, v); });
    });
    this.advance(next.#length);
  }

  /**
   * A new cache whose row i is row rows[i] of the stores concatenated along the batch (all of the
   * same length): to keep, per sequence, the candidate that was chosen among several expansions.
   */
  static gather(stores: readonly KVStore[], rows: Tensor): KVStore {
    const out = new KVStore();
    const first = stores[0];
    if (!first) throw new Error('gather needs at least one cache');
    noGrad(() => {
      for (const layer of first.#layers.keys()) {
        const part = (j: 0 | 1) => keep(tidy(() => cat(stores.map((s) => s.#layers.get(layer)![j]), 0).indexSelect(0, rows)));
        out.#layers.set(layer, [part(0), part(1)]);
      }
    });
    out.#length = first.#length;
    return out;
  }

  dispose(): void {
    for (const [k, v] of this.#layers.values()) {
      k.dispose();
      v.dispose();
    }
    this.#layers.clear();
    this.#length = 0;
  }
}

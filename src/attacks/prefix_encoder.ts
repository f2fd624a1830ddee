// Left-to-right re-encoding of candidate tokens against observed activations. The device part is
// causal, so once a window's prefix is fixed, the state at the next position depends only on the
// token placed there: a search scores candidate tokens at position t on the accepted prefix, keeps
// one, and moves on. CachedPrefixEncoder holds the accepted prefixes' keys/values (KV cache) and
// runs one position per candidate, so scoring is linear in the window length; FullPrefixEncoder
// re-runs every candidate's whole prefix (the reference the cached one is tested against).
import { Tensor, noGrad, tidy, keep, ones, ids as idsTensor, tensor } from '../torch/index.js';
import type { DevicePart } from '../models/types.js';
import { KVStore } from '../models/kv_cache.js';
import { positionDistance } from './reencode.js';

export interface PrefixEncoder {
  /** Position the next score()/advance() is about (= tokens accepted so far per window). */
  readonly position: number;
  /** Mismatch at the current position of tokens[i] placed after window rows[i]'s accepted prefix. */
  score(rows: readonly number[], tokens: readonly number[]): number[];
  /** Accepts tokens[b] at the current position of every window b (all B of them). */
  advance(tokens: readonly number[]): void;
  dispose(): void;
}

export interface PrefixEncoderOptions {
  /** Weight of relative squared L2 next to (1 - cosine). */
  l2Weight: number;
  /** Candidate rows per device forward (bounds memory). */
  chunk?: number;
}

const DEFAULT_CHUNK = 2048;

/** Shared parts: the observed states and mask, and the per-position distance of a [N, 1, D] output. */
abstract class BaseEncoder implements PrefixEncoder {
  protected t = 0;
  protected readonly obs: Tensor;
  protected readonly mask: Tensor;
  protected readonly chunk: number;

  constructor(protected readonly device: DevicePart, obs: Tensor, mask: Tensor, protected readonly o: PrefixEncoderOptions) {
    this.obs = keep(noGrad(() => obs.contiguous()));
    this.mask = keep(noGrad(() => mask.contiguous()));
    this.chunk = o.chunk ?? DEFAULT_CHUNK;
  }

  get position(): number {
    return this.t;
  }

  /** Distances [n] of the states h [n, 1, D] at position t of windows `rows` (a [n] int64 tensor). */
  protected distance(h: Tensor, rows: Tensor): Tensor {
    return tidy(() => {
      const ob = this.obs.indexSelect(0, rows).narrow(1, this.t, 1);
      return positionDistance(h, ob, ones([rows.size(0), 1]), { skipFirst: false, l2Weight: this.o.l2Weight }).reshape(-1);
    });
  }

  score(rows: readonly number[], tokens: readonly number[]): number[] {
    if (rows.length !== tokens.length) throw new RangeError('score: rows and tokens differ in length');
    const out: number[] = [];
    for (let i = 0; i < rows.length; i += this.chunk) {
      const r = rows.slice(i, i + this.chunk);
      const tk = tokens.slice(i, i + this.chunk);
      out.push(...noGrad(() => tidy(() => this.scoreChunk(tensor(r as number[], [r.length], { dtype: 'int64' }), tk).toNumbers())));
    }
    return out;
  }

  protected abstract scoreChunk(rows: Tensor, tokens: readonly number[]): Tensor;
  abstract advance(tokens: readonly number[]): void;

  dispose(): void {
    this.obs.dispose();
    this.mask.dispose();
  }
}

export class CachedPrefixEncoder extends BaseEncoder {
  #cache: KVStore;
  /**
   * The keys/values each scored candidate added at this position, with its (window, token) row:
   * advance() appends the chosen ones to the accepted prefixes' cache. Only the new position is
   * kept, not the candidate's whole grown cache, so memory stays O(candidates), not O(candidates × t).
   */
  #scored: { step: KVStore; rows: readonly number[]; tokens: readonly number[] }[] = [];

  constructor(device: DevicePart, obs: Tensor, mask: Tensor, o: PrefixEncoderOptions) {
    super(device, obs, mask, o);
    this.#cache = device.newCache() as KVStore;
  }

  protected scoreChunk(rows: Tensor, tokens: readonly number[]): Tensor {
    const sub = this.#cache.select(rows);
    try {
      const m = this.mask.indexSelect(0, rows).narrow(1, 0, this.t + 1);
      const h = this.device.forward(idsTensor(tokens.map((x) => [x])), { attentionMask: m, cache: sub }).hidden;
      this.#scored.push({ step: sub.lastPosition(), rows: rows.toNumbers(), tokens });
      return this.distance(h, rows);
    } finally {
      sub.dispose();
    }
  }

  /** Appends, for every window, the scored step of its accepted token; runs the position only when some window's token was never scored. */
  advance(tokens: readonly number[]): void {
    this.advanceFrom(tokens.map((_, b) => b), tokens);
  }

  /**
   * Row b's prefix becomes row parents[b]'s accepted prefix followed by tokens[b] (a beam search:
   * rows hold hypotheses, and the kept ones may descend from any row). The observed states stay
   * where they are: parents should share row b's window.
   */
  advanceFrom(parents: readonly number[], tokens: readonly number[]): void {
    if (parents.length !== tokens.length) throw new RangeError('advanceFrom: parents and tokens differ in length');
    const where = new Map<string, number>();
    let offset = 0;
    for (const s of this.#scored) {
      s.rows.forEach((b, i) => where.set(`${b}:${s.tokens[i]}`, offset + i));
      offset += s.rows.length;
    }
    if (!parents.every((p, b) => p === b)) {
      const idx = tensor(parents as number[], [parents.length], { dtype: 'int64' });
      let reordered: KVStore;
      try {
        reordered = this.#cache.select(idx);
      } finally {
        idx.dispose();
      }
      this.#cache.dispose();
      this.#cache = reordered;
    }
    const picks = tokens.map((tok, b) => where.get(`${parents[b]}:${tok}`));
    if (picks.every((x) => x !== undefined)) {
      const step = noGrad(() => tidy(() => KVStore.gather(this.#scored.map((s) => s.step), tensor(picks as number[], [picks.length], { dtype: 'int64' }))));
      try {
        this.#cache.extend(step);
      } finally {
        step.dispose();
      }
    } else {
      noGrad(() => tidy(() => {
        this.device.forward(idsTensor(tokens.map((x) => [x])), { attentionMask: this.mask.narrow(1, 0, this.t + 1), cache: this.#cache });
      }));
    }
    this.releaseScored();
    this.t++;
  }

  private releaseScored(): void {
    for (const s of this.#scored) s.step.dispose();
    this.#scored = [];
  }

  override dispose(): void {
    this.releaseScored();
    this.#cache.dispose();
    super.dispose();
  }
}

export class FullPrefixEncoder extends BaseEncoder {
  readonly #prefix: number[][];

  constructor(device: DevicePart, obs: Tensor, mask: Tensor, o: PrefixEncoderOptions) {
    super(device, obs, mask, o);
    this.#prefix = Array.from({ length: obs.size(0) }, () => []);
  }

  protected scoreChunk(rows: Tensor, tokens: readonly number[]): Tensor {
    const r = rows.toNumbers();
    const seqs = r.map((b, i) => [...this.#prefix[b]!, tokens[i]!]);
    const m = this.mask.indexSelect(0, rows).narrow(1, 0, this.t + 1);
    const h = this.device.forward(idsTensor(seqs), { attentionMask: m }).hidden.narrow(1, this.t, 1);
    return this.distance(h, rows);
  }

  advance(tokens: readonly number[]): void {
    this.#prefix.forEach((p, b) => p.push(tokens[b]!));
    this.t++;
  }
}

// Framing of captured windows. The split runtime cuts one token stream into windows, so most
// windows start mid-text (no BOS at position 0) and some start where a text does (BOS); an attack
// must not assume either. The device part is causal, so H_k at position 0 depends on token 0
// alone: running the device part once on every vocabulary token at position 0 gives a table that
// identifies token 0 of each window from the traffic itself (BOS or not). Windows framed with BOS
// all share the same position-0 state, which is how a server tells the framing apart.
// Tokens whose embeddings are near-copies (stories260K: EOS and 252 rarely or never emitted ones)
// have position-0 states within wire and drift noise of each other: ids the tokenizer never emits are
// left out, and where the nearest token is a separator's twin (input embeddings at cosine ≥
// `twinCos`), the separator is taken if its state is within SEPARATOR_TIE of the nearest (the
// runtime puts one between every two documents; see twinCos in revertlm/repair.ts).
import { Tensor, noGrad, tidy, keep, cat, arange, tensor } from '../torch/index.js';
import type { DevicePart } from '../models/types.js';
import { embeddingTwins } from './embedding_relatives.js';

const CHUNK = 1024;

/** A separator whose squared distance is within this factor of the nearest token's is preferred. */
const SEPARATOR_TIE = 10;

export interface FirstTokenOptions {
  /** The tokenizer's separators (BOS, EOS), preferred among near-ties. */
  separators?: readonly number[];
  /** Ids the tokenizer never emits: never identified. */
  unreachable?: ReadonlySet<number>;
  /** Embedding cosine from which a token is a separator's twin (0 or absent: no preference). */
  twinCos?: number;
}

export class FirstTokenIndex {
  #states: Tensor | null = null;
  /** [1, V]: true at the ids the tokenizer never emits (null: none; built on first use). */
  #never: Tensor | null | undefined;
  /** Per separator: itself and its near-copies (built on first use). */
  #twinsOf: Set<number>[] | null = null;

  constructor(readonly device: DevicePart, readonly o: FirstTokenOptions = {}) {}

  /** H_k of every vocabulary token alone at position 0, [V, D], for one device part (computed on first use). */
  get states(): Tensor {
    if (!this.#states) {
      const d = this.device;
      const V = d.config.vocabSize;
      this.#states = keep(noGrad(() => tidy(() => {
        const parts: Tensor[] = [];
        for (let i = 0; i < V; i += CHUNK) parts.push(d.forward(arange(i, Math.min(V, i + CHUNK)).unsqueeze(1)).hidden.squeeze(1));
        return cat(parts, 0);
      })));
    }
    return this.#states;
  }

  /** The token whose position-0 state is nearest (L2) to each observed first row h0 [B, D]: [B, 1] int64. */
  identify(h0: Tensor): Tensor {
    return noGrad(() => tidy(() => {
      const S = this.states;
      let d2 = h0.pow(2).sum(-1, true).sub(h0.matmul(S.transpose(0, 1)).mul(2)).add(S.pow(2).sum(-1).unsqueeze(0)).clamp(0);
      const V = S.size(0);
      const never = this.neverMask(V);
      if (never) d2 = d2.maskedFill(never, Infinity);
      const pick = d2.argmin(-1);
      const seps = (this.o.separators ?? []).filter((x) => x < V);
      if (!seps.length || !this.o.twinCos) return pick.unsqueeze(1);
      this.#twinsOf ??= seps.map((x) => new Set([x, ...embeddingTwins(this.device, this.o.twinCos!)(x)]));
      const twinsOf = this.#twinsOf;
      // Squared distances below 1e-6 of the state's own squared norm are rounding, as in the repair's TWIN_FLOOR.
      const floor = h0.pow(2).sum(-1).mul(1e-6).toNumbers();
      const best = d2.amin(-1).toNumbers().map((x, b) => Math.max(x, floor[b]!));
      const sd = d2.indexSelect(1, tensor(seps, [seps.length], { dtype: 'int64' })).toNumbers();
      const ids = pick.toNumbers().map((p, b) => {
        let s = -1;
        seps.forEach((x, j) => {
          const d = sd[b * seps.length + j]!;
          if (twinsOf[j]!.has(p) && d <= SEPARATOR_TIE * best[b]! && (s < 0 || d < sd[b * seps.length + s]!)) s = j;
        });
        return s >= 0 ? seps[s]! : p;
      });
      return tensor(ids, [ids.length, 1], { dtype: 'int64' });
    }));
  }

  /** The ids the tokenizer never emits as a [1, V] mask, or null when there are none. */
  private neverMask(V: number): Tensor | null {
    if (this.#never === undefined) {
      const never = [...(this.o.unreachable ?? [])].filter((x) => x < V);
      const m = new Array<number>(V).fill(0);
      for (const x of never) m[x] = 1;
      this.#never = never.length ? keep(noGrad(() => tidy(() => tensor(m, [1, V]).gt(0)))) : null;
    }
    return this.#never;
  }

  /** Token 0 of every window of a captured batch (hidden [B, T, D]). */
  firstTokens(hidden: Tensor): number[] {
    return tidy(() => this.identify(hidden.select(1, 0)).reshape(-1).toNumbers());
  }

  dispose(): void {
    this.#states?.dispose();
    this.#states = null;
    this.#never?.dispose();
    this.#never = undefined;
  }
}

/** Per window: whether it is BOS-framed (its token 0, identified from the traffic, is BOS). */
export function bosFramed(first: readonly number[], bos: number | null): boolean[] {
  return first.map((t) => bos !== null && t === bos);
}

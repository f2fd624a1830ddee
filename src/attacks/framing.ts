// Framing of captured windows. The split runtime cuts one token stream into windows, so most
// windows start mid-text (no BOS at position 0) and some start where a text does (BOS); an attack
// must not assume either. The device part is causal, so H_k at position 0 depends on token 0
// alone: running the device part once on every vocabulary token at position 0 gives a table that
// identifies token 0 of each window from the traffic itself (BOS or not). Windows framed with BOS
// all share the same position-0 state, which is how a server tells the framing apart.
import { Tensor, noGrad, tidy, keep, cat, arange } from '../torch/index.js';
import type { DevicePart } from '../models/types.js';

const CHUNK = 1024;

/** H_k of every vocabulary token alone at position 0, [V, D], for one device part (computed on first use). */
export class FirstTokenIndex {
  #states: Tensor | null = null;

  constructor(readonly device: DevicePart) {}

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
      const d2 = h0.pow(2).sum(-1, true).sub(h0.matmul(S.transpose(0, 1)).mul(2)).add(S.pow(2).sum(-1).unsqueeze(0));
      return d2.argmin(-1).unsqueeze(1);
    }));
  }

  /** Token 0 of every window of a captured batch (hidden [B, T, D]). */
  firstTokens(hidden: Tensor): number[] {
    return tidy(() => this.identify(hidden.select(1, 0)).reshape(-1).toNumbers());
  }

  dispose(): void {
    this.#states?.dispose();
    this.#states = null;
  }
}

/** Per window: whether it is BOS-framed (its token 0, identified from the traffic, is BOS). */
export function bosFramed(first: readonly number[], bos: number | null): boolean[] {
  return first.map((t) => bos !== null && t === bos);
}

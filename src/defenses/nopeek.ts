import { type Tensor, tidy, F } from '../torch/index.js';
import type { Defense, PrivacyGuarantee } from './types.js';

function doublyCentred(x: Tensor): Tensor {
  const d = F.cdist(x, x);
  return d.sub(d.mean(0, true)).sub(d.mean(1, true)).add(d.mean());
}

/**
 * Sample distance correlation (Székely et al. 2007) between rows of x [n, p] and y [n, q],
 * differentiable. 0 = independent, 1 = related by a similarity transform.
 */
export function distanceCorrelation(x: Tensor, y: Tensor): Tensor {
  return tidy(() => {
    const a = doublyCentred(x);
    const b = doublyCentred(y);
    const dcov = a.mul(b).mean().clamp(0);
    const dvar = a.square().mean().mul(b.square().mean()).sqrt().clamp(1e-12);
    return dcov.div(dvar).sqrt();
  });
}

/**
 * NoPeek (Vepakomma et al. 2020): a training-time penalty level · dCor(E, H) between the input
 * embeddings and the activations that are sent, over token vectors (up to maxTokens of the batch,
 * to bound the O(n²) distance matrices). It changes training, not what apply() sends.
 */
export class NoPeekDefense implements Defense {
  readonly name = 'nopeek' as const;
  readonly stage = 'training' as const;
  constructor(readonly level: number, readonly maxTokens = 256) {
    if (!(level >= 0)) throw new RangeError(`nopeek level (penalty weight) must be >= 0, got ${level}`);
  }
  apply(x: Tensor): Tensor {
    return x.clone();
  }
  /** The penalty to add to the training loss; embeds and hidden are [B, T, D] (mask optional, [B, T]). */
  trainingLoss(embeds: Tensor, hidden: Tensor, mask?: Tensor): Tensor {
    return tidy(() => {
      let e = embeds.reshape(-1, embeds.size(-1));
      let h = hidden.reshape(-1, hidden.size(-1));
      if (mask) {
        const idx = mask.reshape(-1).nonzero().squeeze(-1);
        e = e.indexSelect(0, idx);
        h = h.indexSelect(0, idx);
      }
      const n = Math.min(e.size(0), this.maxTokens);
      return distanceCorrelation(e.narrow(0, 0, n), h.narrow(0, 0, n)).mul(this.level);
    });
  }
  privacy(): PrivacyGuarantee | null {
    return null;
  }
  describe(): string {
    return `NoPeek distance-correlation penalty, weight ${this.level}`;
  }
}

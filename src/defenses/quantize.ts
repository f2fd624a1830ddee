import { type Tensor, tidy } from '../torch/index.js';
import type { Defense, PrivacyGuarantee } from './types.js';

/**
 * Symmetric per-token absmax quantisation to `level` bits (8 = int8, 4 = int4; 0 = off).
 * The server receives the dequantised values; the error per component is at most half a step
 * (absmax / (2^(bits−1) − 1) / 2).
 */
export class QuantizeDefense implements Defense {
  readonly name = 'quantize' as const;
  readonly stage = 'activations' as const;
  constructor(readonly level: number) {
    if (!(level === 0 || (Number.isInteger(level) && level >= 2 && level <= 16))) {
      throw new RangeError(`quantize level is a bit width in 2..16 (or 0 = off), got ${level}`);
    }
  }
  get qmax(): number {
    return 2 ** (this.level - 1) - 1;
  }
  apply(x: Tensor): Tensor {
    if (this.level === 0) return x.clone();
    return tidy(() => {
      const step = x.abs().amax(-1, true).clamp(1e-12).div(this.qmax);
      const q = x.div(step).round().clamp(-this.qmax, this.qmax).mul(step);
      // Straight-through estimator: the forward value is q, the gradient that of the identity,
      // so a white-box attacker can still optimise through the quantiser.
      return x.add(q.sub(x).detach());
    });
  }
  privacy(): PrivacyGuarantee | null {
    return null;
  }
  describe(): string {
    return this.level === 0 ? 'no quantisation' : `int${this.level} per-token absmax quantisation`;
  }
}

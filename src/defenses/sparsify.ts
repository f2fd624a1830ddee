import { type Tensor, Generator, tidy, zerosLike } from '../torch/index.js';
import type { Defense, PrivacyGuarantee } from './types.js';

/** Top-k sparsification: per token vector, zero the `level` fraction of components smallest in magnitude. */
export class TopKDefense implements Defense {
  readonly name = 'topk' as const;
  readonly stage = 'activations' as const;
  constructor(readonly level: number) {
    if (!(level >= 0 && level < 1)) throw new RangeError(`topk level (fraction zeroed) must be in [0, 1), got ${level}`);
  }
  keptComponents(d: number): number {
    return Math.max(1, Math.round((1 - this.level) * d));
  }
  apply(x: Tensor): Tensor {
    if (this.level === 0) return x.clone();
    return tidy(() => {
      const k = this.keptComponents(x.size(-1));
      const [, idx] = x.abs().topk(k, -1);
      return zerosLike(x).scatter(-1, idx, x.gather(-1, idx));
    });
  }
  privacy(): PrivacyGuarantee | null {
    return null;
  }
  describe(): string {
    return `top-k sparsification keeping ${(100 * (1 - this.level)).toFixed(0)}% of components per token`;
  }
}

/** Random dimension dropout: each component is zeroed with probability `level`, survivors scaled by 1/(1−level). */
export class DimDropoutDefense implements Defense {
  readonly name = 'dropout' as const;
  readonly stage = 'activations' as const;
  readonly #gen: Generator;
  constructor(readonly level: number, seed = 0) {
    if (!(level >= 0 && level < 1)) throw new RangeError(`dropout level (drop probability) must be in [0, 1), got ${level}`);
    this.#gen = new Generator(seed);
  }
  apply(x: Tensor): Tensor {
    if (this.level === 0) return x.clone();
    return tidy(() => {
      const keep = this.#gen.rand(x.shape).ge(this.level);
      return x.mul(keep).div(1 - this.level);
    });
  }
  privacy(): PrivacyGuarantee | null {
    return null;
  }
  describe(): string {
    return `random dimension dropout p = ${this.level}`;
  }
}

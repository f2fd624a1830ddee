import { type Tensor, Generator, tidy } from '../torch/index.js';
import type { Defense, DefenseContext, PrivacyGuarantee } from './types.js';

export interface DChiOptions {
  /** Noise scale 1/η (0 = no noise). */
  level: number;
  /** Replace each noisy embedding by the nearest token embedding (needs ctx.embeddingMatrix). */
  snap?: boolean;
  seed?: number;
}

/**
 * d_χ-privacy on input embeddings (Feyisetan et al. 2020, as SplitLLM/VFLAIR use): add noise with
 * density ∝ exp(−η‖z‖): a uniform direction times a radius ~ Gamma(D, 1/η). The guarantee is
 * metric: outputs for embeddings x, x' differ by at most a factor exp(η·‖x − x'‖).
 */
export class DChiDefense implements Defense {
  readonly name = 'dchi' as const;
  readonly stage = 'embeddings' as const;
  readonly level: number;
  readonly snap: boolean;
  readonly #gen: Generator;

  constructor(o: DChiOptions) {
    if (!(o.level >= 0)) throw new RangeError(`dchi level (1/η) must be >= 0, got ${o.level}`);
    this.level = o.level;
    this.snap = o.snap ?? false;
    this.#gen = new Generator(o.seed ?? 0);
  }

  get eta(): number {
    return this.level === 0 ? Infinity : 1 / this.level;
  }

  apply(x: Tensor, ctx: DefenseContext = {}): Tensor {
    if (this.level === 0 && !this.snap) return x.clone();
    if (this.snap && !ctx.embeddingMatrix) {
      throw new Error('dchi with snap needs the token embedding matrix (DefenseContext.embeddingMatrix)');
    }
    return tidy(() => {
      let y = x;
      if (this.level > 0) {
        const d = x.size(-1);
        const dir = this.#gen.randn(x.shape);
        const unit = dir.div(dir.norm(2, -1, true).clamp(1e-12));
        // Gamma(D, 1) as the sum of D unit exponentials (D is the embedding width, so this is cheap).
        const u = this.#gen.rand([...x.shape.slice(0, -1), d]).clamp(1e-12, 1);
        const radius = u.log().neg().sum(-1, true).mul(this.level);
        y = x.add(unit.mul(radius));
      }
      if (this.snap) {
        const e = ctx.embeddingMatrix!;
        const flat = y.reshape(-1, y.size(-1));
        const nearest = flat.matmul(e.T).mul(2).sub(e.square().sum(-1)).argmax(-1);
        const snapped = e.indexSelect(0, nearest).reshape(y.shape);
        y = y.add(snapped.sub(y).detach()); // straight-through, as in quantize.ts
      }
      return y === x ? x.clone() : y;
    });
  }

  privacy(): PrivacyGuarantee | null {
    return { epsilon: this.eta, delta: 0, unit: 'per-unit-distance' };
  }

  describe(): string {
    return `d_χ-privacy noise on input embeddings, 1/η = ${this.level}${this.snap ? ', snapped to the nearest token' : ''}`;
  }
}

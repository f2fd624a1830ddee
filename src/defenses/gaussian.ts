import { type Tensor, Generator, tidy } from '../torch/index.js';
import type { Defense, PrivacyGuarantee } from './types.js';
import { analyticGaussianEpsilon } from './gaussian_accounting.js';

export interface GaussianOptions {
  /** σ as a multiple of the RMS of the clean activations at this split. */
  level: number;
  /** Clip each token vector to clipFactor · √D · RMS (the RMS token norm). */
  clipFactor?: number;
  delta?: number;
  seed?: number;
  /** RMS of clean activations; measured on the first batch when not given. */
  rms?: number;
  /** Width of the token vectors (known from the model; otherwise taken from the first batch). */
  dim?: number;
}

/**
 * Gaussian mechanism on hidden states: clip each token vector to L2 norm C, add N(0, σ²I).
 * Replacing one token moves its clipped vector by at most Δ = 2C, so each released token vector
 * is (ε, δ)-DP with ε from the analytic Gaussian mechanism (Balle & Wang 2018).
 */
export class GaussianDefense implements Defense {
  readonly name = 'gaussian' as const;
  readonly stage = 'activations' as const;
  readonly level: number;
  readonly clipFactor: number;
  readonly delta: number;
  #rms: number | undefined;
  #dim: number | undefined;
  readonly #gen: Generator;

  constructor(o: GaussianOptions) {
    if (!(o.level >= 0)) throw new RangeError(`gaussian level must be >= 0, got ${o.level}`);
    this.level = o.level;
    this.clipFactor = o.clipFactor ?? 1;
    this.delta = o.delta ?? 1e-5;
    this.#rms = o.rms;
    this.#dim = o.dim;
    this.#gen = new Generator(o.seed ?? 0);
  }

  get rms(): number | undefined {
    return this.#rms;
  }
  get sigma(): number | undefined {
    return this.#rms === undefined ? undefined : this.level * this.#rms;
  }
  get clipNorm(): number | undefined {
    return this.#rms === undefined || this.#dim === undefined ? undefined : this.clipFactor * Math.sqrt(this.#dim) * this.#rms;
  }

  apply(x: Tensor): Tensor {
    if (this.level === 0) return x.clone();
    return tidy(() => {
      this.#dim = x.size(-1);
      this.#rms ??= x.square().mean().sqrt().item();
      const c = this.clipNorm!;
      const norms = x.norm(2, -1, true);
      const scale = norms.clamp(1e-12).reciprocal().mul(c).clamp(null, 1);
      const noise = this.#gen.randn(x.shape).mul(this.sigma!);
      return x.mul(scale).add(noise);
    });
  }

  privacy(): PrivacyGuarantee | null {
    if (this.level === 0) return { epsilon: Infinity, delta: 0, unit: 'per-token-release' };
    const c = this.clipNorm;
    if (c === undefined) return null;
    return { epsilon: analyticGaussianEpsilon(2 * c, this.sigma!, this.delta), delta: this.delta, unit: 'per-token-release' };
  }

  describe(): string {
    return `Gaussian noise σ = ${this.level}·RMS with per-token clipping to ${this.clipFactor}·√D·RMS (δ = ${this.delta})`;
  }
}

// Statistics of the hidden states alone (no token ids needed, so they also apply to a server-side
// capture): differential entropy, effective rank, sparsity and excess kurtosis.
import { noGrad, svd, tidy, type Tensor } from '../torch/index.js';
import { chebyshev } from './chebyshev.js';
import { digamma } from './special.js';

/**
 * Kozachenko–Leonenko k-NN differential entropy in nats, max-norm form (Kraskov et al. 2004,
 * eq. 20 with c_d = 1): Ĥ = ψ(N) − ψ(k) + d · ⟨log 2r_i⟩, r_i the max-norm distance from row i to
 * its k-th neighbour.
 *
 * Assumptions: i.i.d. rows from a continuous density that is roughly constant over each k-NN ball.
 * Scale dependent: multiplying x by c adds d·log c (so callers pass unwhitened projections).
 * Bias: consistent (→ 0 as N → ∞), negligible in a few dimensions; in higher dimension it is
 * mostly UPWARD because the k-NN balls are no longer small — measured at N = 4000, k = 3: +0.74
 * nats for a 16-d standard Gaussian, +1.1 nats for the 8-d unit cube (boundary effect). Repeated
 * rows (an atom) give r_i = 0 and −∞: jitter ties first.
 */
export function klEntropy(x: Tensor, o: { k?: number; blockElements?: number } = {}): number {
  const k = o.k ?? 3;
  if (x.ndim !== 2) throw new RangeError(`klEntropy: expected [N, d], got [${x.shape}]`);
  const [n, d] = x.shape as [number, number];
  if (!Number.isInteger(k) || k < 1 || k >= n) throw new RangeError(`klEntropy: need 1 <= k < N, got k=${k}, N=${n}`);
  const rows = Math.max(1, Math.floor((o.blockElements ?? 1 << 23) / n));
  let logSum = 0;
  noGrad(() =>
    tidy(() => {
      const xs = x.float().contiguous();
      for (let i0 = 0; i0 < n; i0 += rows) {
        const b = Math.min(rows, n - i0);
        logSum += tidy(() => {
          // (k+1)-th smallest of the row = k-th neighbour among the others (the point itself is at 0).
          const r = chebyshev(xs.narrow(0, i0, b), xs).topk(k + 1, 1, false, true)[0].narrow(1, k, 1);
          return r.to('float64').mul(2).log().sum().item();
        });
      }
    }),
  );
  return digamma(n) - digamma(k) + (d * logSum) / n;
}

/**
 * Effective rank (Roy & Vetterli 2007): exp of the Shannon entropy of the normalised singular
 * values p_i = σ_i / Σσ. Equals r for a matrix with r equal non-zero singular values; between 1
 * and min(N, D). center: subtract the column means first (default true; the rank of the spread,
 * not of the offset). A sample statistic: noise spreads the singular values, so on finite noisy
 * samples it is biased UPWARD relative to the noiseless spectrum; it is capped by min(N, D).
 */
export function effectiveRank(x: Tensor, o: { center?: boolean } = {}): number {
  if (x.ndim !== 2) throw new RangeError(`effectiveRank: expected [N, D], got [${x.shape}]`);
  const s = noGrad(() =>
    tidy(() => {
      let xd = x.to('float64');
      if (o.center ?? true) xd = xd.sub(xd.mean(0, true));
      return svd(xd)[1].toNumbers();
    }),
  );
  const total = s.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return 0;
  let h = 0;
  for (const v of s) {
    const p = v / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return Math.exp(h);
}

/**
 * Default τ of `sparsity`: a component counts as near zero when |h_j| < τ · RMS(h). For a dense
 * Gaussian vector the expected fraction is erf(τ/√2) ≈ 0.8 τ (0.008 at τ = 0.01), so values well
 * above that mean genuinely sparse (or heavy-tailed) representations.
 */
export const SPARSITY_TAU = 0.01;

/** Fraction of components with |h_j| < τ · RMS of their own row h (rows of x [N, D]); an unbiased count. */
export function sparsity(x: Tensor, tau = SPARSITY_TAU): number {
  if (x.ndim !== 2) throw new RangeError(`sparsity: expected [N, D], got [${x.shape}]`);
  return noGrad(() =>
    tidy(() => {
      const xd = x.to('float64');
      const rms = xd.square().mean(1, true).sqrt();
      return xd.abs().lt(rms.mul(tau)).to('float64').mean().item();
    }),
  );
}

/**
 * Excess kurtosis m4 / m2² − 3 of all entries of x pooled (centred by the overall mean): 0 for
 * Gaussian entries, −1.2 for uniform, 3 for Laplace. Large values flag outlier ("massive")
 * activation dimensions. NaN for constant input. The sample estimate is biased DOWNWARD for heavy
 * tails at small N (rare extreme values are under-sampled).
 */
export function excessKurtosis(x: Tensor): number {
  return noGrad(() =>
    tidy(() => {
      const xd = x.to('float64').flatten();
      const c = xd.sub(xd.mean());
      const m2 = c.square().mean().item();
      const m4 = c.square().square().mean().item();
      return m4 / (m2 * m2) - 3;
    }),
  );
}

// Principal component analysis for the k-NN estimators, which need low-dimensional inputs.
// Fitted on one set of tokens (the fitting half) and applied to another (the estimation half), so
// the projection does not adapt to the points it is evaluated on. Computed in float64: eigh of
// the D×D covariance when D ≤ N, else SVD of the centred data.
//
// A projection is a function of H, so I(P E; P H) ≤ I(E; H) (data processing): truncating to m
// components can only lower the mutual information the estimators see. Whitening (unit variance
// per component) is invertible on the kept subspace, so it leaves MI unchanged; it makes the
// max-norm treat every component alike. It changes differential entropy, so `entropy` uses the
// unwhitened projection.
import { eigh, keep, noGrad, svd, tensor, tidy, type Tensor } from '../torch/index.js';

export interface PcaOptions {
  /** Number of components to keep (capped at D and N − 1). */
  components: number;
}

export interface Pca {
  /** [D] float64 mean of the fitting data. */
  readonly mean: Tensor;
  /** [D, m] float64 principal axes as columns, by decreasing variance. */
  readonly axes: Tensor;
  /** Variance along each kept axis (descending). */
  readonly explainedVariance: number[];
  /** explainedVariance / total variance. */
  readonly explainedVarianceRatio: number[];
  /** Sum of explainedVarianceRatio: the share of the total variance the projection keeps. */
  readonly keptVarianceRatio: number;
  /** Projects rows of x [n, D] onto the axes: [n, m] float32 (whiten: unit variance per axis). */
  transform(x: Tensor, o?: { whiten?: boolean }): Tensor;
  dispose(): void;
}

export function fitPca(x: Tensor, o: PcaOptions): Pca {
  if (x.ndim !== 2) throw new RangeError(`pca: expected [N, D], got [${x.shape}]`);
  const [n, d] = x.shape as [number, number];
  if (n < 2) throw new RangeError(`pca: need at least 2 rows, got ${n}`);
  const m = Math.max(1, Math.min(o.components, d, n - 1));
  const fit = noGrad(() =>
    tidy(() => {
      const xd = x.to('float64');
      const mean = xd.mean(0);
      const xc = xd.sub(mean);
      let values: Tensor;
      let vectors: Tensor; // [D, r], columns, descending
      if (d <= n) {
        const cov = xc.T.mm(xc).div(n - 1);
        const [w, v] = eigh(cov);
        values = w.flip(0).clamp(0, null);
        vectors = v.flip(1);
      } else {
        const [, s, vh] = svd(xc);
        values = s.square().div(n - 1);
        vectors = vh.T;
      }
      let axes = vectors.narrow(1, 0, m);
      // Sign convention (largest-magnitude loading positive) so results do not depend on the solver.
      const [, arg] = axes.abs().maxDim(0, true);
      axes = axes.mul(axes.gather(0, arg).sign().add(0.5).sign());
      return { mean: keep(mean), axes: keep(axes.contiguous()), values: values.toNumbers() };
    }),
  );
  const total = fit.values.reduce((a, b) => a + b, 0);
  const explainedVariance = fit.values.slice(0, m);
  const explainedVarianceRatio = explainedVariance.map((v) => (total > 0 ? v / total : 0));
  const top = explainedVariance[0] ?? 0;
  // Axes with (numerically) no variance would be blown up by whitening: leave them unscaled.
  const scale = explainedVariance.map((v) => (v > top * 1e-12 && v > 0 ? 1 / Math.sqrt(v) : 1));
  return {
    mean: fit.mean,
    axes: fit.axes,
    explainedVariance,
    explainedVarianceRatio,
    keptVarianceRatio: explainedVarianceRatio.reduce((a, b) => a + b, 0),
    transform(xn: Tensor, t: { whiten?: boolean } = {}): Tensor {
      return noGrad(() =>
        tidy(() => {
          let z = xn.to('float64').sub(fit.mean).mm(fit.axes);
          if (t.whiten) z = z.mul(tensor(Float64Array.from(scale)));
          return z.float();
        }),
      );
    },
    dispose(): void {
      fit.mean.dispose();
      fit.axes.dispose();
    },
  };
}

// Shared helpers of the torch tests: closeness assertions, a seeded JS random source, and a
// finite-difference gradient checker.
import assert from 'node:assert/strict';
import { mulberry32 } from '../../src/util/prng.js';
import { type Tensor, tensor, tidy, noGrad, grad } from '../../src/torch/index.js';

/** mulberry32: a small deterministic PRNG, so test inputs do not depend on libtorch's RNG. */
export const rng = mulberry32;

/** n values uniform in [lo, hi). */
export function uniform(n: number, seed: number, lo = -1, hi = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** n values with lo <= |x| < hi and random signs (keeps kinks such as abs/relu/clamp out of reach). */
export function awayFromZero(n: number, seed: number, lo = 0.2, hi = 1.5): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r()));
}

/** A float64 tensor of the given shape, filled from uniform(seed, lo, hi). */
export function f64(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  return tensor(uniform(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape, { dtype: 'float64' });
}

export function assertClose(actual: number, expected: number, tol = 1e-6, msg = ''): void {
  const ok = Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected));
  assert.ok(ok, `${msg ? `${msg}: ` : ''}expected ${expected}, got ${actual} (tol ${tol})`);
}

/** Elementwise |a - e| <= atol + rtol·|e| (NaNs must match). */
export function assertAllClose(actual: Tensor | ArrayLike<number>, expected: ArrayLike<number>, o: { rtol?: number; atol?: number; msg?: string } = {}): void {
  const a = Array.isArray(actual) || ArrayBuffer.isView(actual) ? Array.from(actual as ArrayLike<number>) : (actual as Tensor).toNumbers();
  const rtol = o.rtol ?? 1e-5;
  const atol = o.atol ?? 1e-6;
  assert.equal(a.length, expected.length, `${o.msg ?? ''} length ${a.length} != ${expected.length}`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, e = expected[i]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(x), `${o.msg ?? ''}[${i}]: expected NaN, got ${x}`);
      continue;
    }
    assert.ok(Math.abs(x - e) <= atol + rtol * Math.abs(e), `${o.msg ?? ''}[${i}]: expected ${e}, got ${x} (all: ${a.slice(0, 12).join(', ')})`);
  }
}

export interface GradcheckOptions {
  /** Indices of the inputs to check; default: every floating input. */
  wrt?: number[];
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Allow an all-zero analytic gradient (off by default, so a dead gradient fails). */
  allowZero?: boolean;
}

/**
 * Compares autograd's gradient of fn with central finite differences, in float64. The output is
 * reduced to a scalar with fixed random weights (a plain sum would hide errors, e.g. softmax's
 * gradient of the sum is zero). Inputs to check must be float64; the others (ids, masks) pass
 * through. Returns the largest absolute error seen.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], o: GradcheckOptions = {}): number {
  const eps = o.eps ?? 1e-6;
  const rtol = o.rtol ?? 1e-4;
  const atol = o.atol ?? 1e-7;
  const floating = (t: Tensor) => t.dtype === 'float64' || t.dtype === 'float32' || t.dtype === 'float16' || t.dtype === 'bfloat16';
  const wrt = o.wrt ?? inputs.map((t, i) => (floating(t) ? i : -1)).filter((i) => i >= 0);
  assert.ok(wrt.length > 0, 'gradcheck: nothing to check');
  for (const i of wrt) assert.equal(inputs[i]!.dtype, 'float64', `gradcheck: input ${i} must be float64 (use .to('float64'))`);

  return tidy(() => {
    const leaves = inputs.map((t, i) => (wrt.includes(i) ? noGrad(() => t.detach().clone()).requiresGrad_(true) : t));
    const out = fn(...leaves);
    assert.equal(out.dtype, 'float64', 'gradcheck: fn must return float64 for a meaningful check');
    const weights = tensor(uniform(out.numel, 7, 0.5, 1.5).map((x, j) => (j % 3 === 1 ? -x : x)), out.shape, { dtype: 'float64' });
    const objective = (y: Tensor) => y.mul(weights).sum();
    const analytic = grad([objective(out)], wrt.map((i) => leaves[i]!));

    let worst = 0;
    const failures: string[] = [];
    wrt.forEach((idx, k) => {
      const x = inputs[idx]!;
      const shape = x.shape;
      const base = Float64Array.from(x.toNumbers());
      const an = analytic[k] ? analytic[k]!.toNumbers() : new Array<number>(base.length).fill(0);
      if (!o.allowZero) assert.ok(an.some((v) => v !== 0), `gradcheck: input ${idx} has an all-zero analytic gradient`);
      const evalAt = (j: number, delta: number) =>
        tidy(() =>
          noGrad(() => {
            const moved = base.slice();
            moved[j]! += delta;
            const xs = inputs.map((t, m) => (m === idx ? tensor(moved, shape, { dtype: 'float64' }) : t));
            return objective(fn(...xs)).item();
          }),
        );
      for (let j = 0; j < base.length; j++) {
        const num = (evalAt(j, eps) - evalAt(j, -eps)) / (2 * eps);
        const err = Math.abs(num - an[j]!);
        worst = Math.max(worst, err);
        if (!(err <= atol + rtol * Math.abs(num))) failures.push(`input ${idx}[${j}]: autograd ${an[j]} vs numeric ${num}`);
      }
    });
    assert.equal(failures.length, 0, `gradcheck failed (${failures.length}):\n${failures.slice(0, 8).join('\n')}`);
    return worst;
  });
}

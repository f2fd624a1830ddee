// Adapter estimation's rounds: the server holds many windows from the same device, and a personalised device
// differs from the pretrained part the server knows by a low-rank correction (the LoRA adapters it
// fine-tuned on private text). Alternate:
//   1. invert every captured window with the current estimate of the device part;
//   2. re-encode the reconstructions with the estimate and keep the CONFIDENT positions — those
//      whose re-encoded state is already close to the observed one (mismatch at most `confidence` ×
//      the median over all positions): wrong tokens re-encode far off and are left out;
//   3. fit a LoRA correction of the pretrained part (the shapes the protocol announces: rank,
//      targets) so that re-encoding the confident positions reproduces the observed states;
// and repeat; the final estimate is what the attack re-encodes with. The base weights stay frozen;
// only the adapters are fitted, from zero (B = 0), so the estimate starts as the pretrained part.
// With several candidate shapes (unknown rank/targets), the first round fits each and keeps the one
// whose fit generalises best to held-out windows.
import { Tensor, noGrad, tidy, keep, tensor } from '../../torch/index.js';
import type { DeviceModel, DevicePart } from '../../models/index.js';
import type { AdaptReport, InterceptedBatch } from '../types.js';
import { windowCount } from '../intercept.js';
import { positionDistance } from '../reencode.js';
import { ESTIMATION_DEFAULTS, type AdapterSpec, type EstimationOptions } from './options.js';
import { DeviceEstimate, type FitBatch } from './device_estimate.js';
import { mismatchOf, quantileOf } from './mismatch.js';

export interface EstimationRound {
  round: number;
  /** Median re-encoding mismatch of the reconstructions before this round's fit. */
  median: number;
  /** Share of real positions used as confident. */
  confident: number;
  /** Weighted mismatch after the fit. */
  fitted: number;
  spec: AdapterSpec;
  /** Seconds fitting, and re-inverting with the new estimate. */
  fitSeconds: number;
  invertSeconds: number;
  /** Windows that re-inversion covered (the sample's, or every window's; 0 = left to the caller). */
  invertWindows: number;
  /**
   * Share of real positions whose token the re-inversion changed, when it covered the windows the
   * fit learned from (undefined otherwise): how far the alternation still was from a fixed point.
   */
  changed?: number;
}

export interface EstimationResult {
  /** The fitted estimate (null when the traffic already matched the known part). */
  estimate: DeviceEstimate | null;
  rounds: EstimationRound[];
  /**
   * Median mismatch with the known part and, after the rounds, with the estimate (undefined when
   * the last round's inversion was left to the caller: `invertLast: false`).
   */
  medianBefore: number;
  medianAfter?: number;
  /** Seconds of the first inversion (with the known part). */
  invertSeconds: number;
  /** With keepIds: the last round's reconstructions (the caller disposes them). */
  ids?: Tensor[];
}

/**
 * Alternates inversion and fitting. `invert(device, round, final, wide)` inverts every batch of the
 * sample (`wide`: of opts.wide) with the given device part (round 0: the known part, before any fit;
 * `final`: the last round, whose reconstructions the result keeps) and returns the reconstructed ids
 * per batch ([B, T] int64, aligned with the batches it inverted). `prev`: the reconstructions the
 * last fit learned from, when they cover the same windows (mostly right already: a starting point).
 * With opts.wide (every window of a capture the sample was drawn from), the inversion before the
 * last fit and the final one cover the wide set: the last fit then learns from every window, so the
 * estimate the final inversion uses is as close as the whole capture allows (fitted on a sample
 * only, the drift it leaves makes the final inversion's repair escalate at many positions).
 */
export function estimateDevice(base: DevicePart, sample: readonly InterceptedBatch[], invert: (device: DevicePart, round: number, final: boolean, wide: boolean, prev?: readonly Tensor[]) => Tensor[], opts: Partial<EstimationOptions> & { keepIds?: boolean; invertLast?: boolean; wide?: readonly InterceptedBatch[] } = {}): EstimationResult {
  const o = { ...ESTIMATION_DEFAULTS, ...opts };
  const invertLast = opts.invertLast ?? true;
  let kept = false;
  // Rounds to run: o.rounds, more while the alternation has not settled (maxRounds, settleBelow).
  let total = o.rounds;
  // Inversion j (0: with the known part, r: after fit r) covers the wide set from the one the last fit learns from.
  const isWide = (j: number) => !!opts.wide && j >= total - 1;
  const setOf = (j: number) => (isWide(j) ? opts.wide! : sample);
  let batches = setOf(0);
  let masks = batches.map((b) => b.attentionMask);
  const t0 = performance.now();
  let ids = invert(base, 0, false, isWide(0));
  const invertSeconds = (performance.now() - t0) / 1000;
  let mm = ids.map((x, i) => mismatchOf(base, x, batches[i]!, o.l2Weight));
  const medianBefore = quantileOf(mm, masks);
  const rounds: EstimationRound[] = [];
  let estimate: DeviceEstimate | null = null;
  try {
    if (quantileOf(mm, masks, o.cleanQuantile) <= o.cleanBelow) {
      kept = !!o.keepIds;
      return { estimate: null, rounds, medianBefore, medianAfter: medianBefore, invertSeconds, ...(kept ? { ids } : {}) };
    }
    let median = medianBefore;
    for (let r = 0; r < total; r++) {
      // Before the round whose inversion feeds the last fit: one more refit on the sample if the previous one still changed many tokens.
      const unsettled = (rounds[r - 1]?.changed ?? 0) > o.settleBelow;
      if (r >= 1 && r === total - 2 && unsettled && total < Math.max(o.rounds, o.maxRounds)) total++;
      const last = r === total - 1;
      const data = fitData(ids, mm, batches, o.confidence * median);
      const t1 = performance.now();
      const confident = data.reduce((a, d) => a + noGrad(() => tidy(() => d.weight.sum().item())), 0) / masks.reduce((a, m) => a + noGrad(() => tidy(() => m.sum().item())), 0);
      try {
        // Round 1 fits from zero (B = 0: the pretrained part); later rounds refine the estimate on the
        // new, better reconstructions and their confident positions; with freshLast the last one
        // starts from zero again.
        if (estimate && last && o.freshLast) {
          const fresh = DeviceEstimate.create(base, estimate.spec, o.seed);
          estimate.dispose();
          estimate = fresh;
        }
        const next: DeviceEstimate = estimate ?? (o.specs.length > 1 ? searchSpec(base, data, o.specs, o) : DeviceEstimate.create(base, o.specs[0]!, o.seed));
        const fitted = next.fit(data, { ...o, steps: !estimate ? o.steps : last ? o.finalSteps : o.refineSteps });
        estimate = next;
        rounds.push({ round: r + 1, median, confident, fitted, spec: next.spec, fitSeconds: (performance.now() - t1) / 1000, invertSeconds: 0, invertWindows: 0 });
      } finally {
        for (const d of data) {
          d.weight.dispose();
        }
      }
      for (const x of mm) x.dispose();
      mm = [];
      // The reconstructions this fit learned from: the next inversion's starting candidates when it covers the same windows.
      const prev = ids;
      ids = [];
      let snap: DeviceModel | null = null;
      try {
        // Inverting runs on merged weights: the estimate itself once its last fit is done, else a copy.
        const est = estimate as DeviceEstimate;
        if (last) est.freeze();
        if (last && !invertLast) return { estimate, rounds, medianBefore, invertSeconds };
        snap = last ? null : est.snapshot();
        const device = snap ?? est.device;
        const t2 = performance.now();
        const same = isWide(r + 1) === isWide(r);
        batches = setOf(r + 1);
        masks = batches.map((b) => b.attentionMask);
        ids = invert(device, r + 1, last, isWide(r + 1), same ? prev : undefined);
        rounds[r]!.invertSeconds = (performance.now() - t2) / 1000;
        rounds[r]!.invertWindows = windowCount(batches);
        if (same) rounds[r]!.changed = changedShare(ids, prev, masks);
        mm = ids.map((x, i) => mismatchOf(device, x, batches[i]!, o.l2Weight));
      } finally {
        snap?.dispose();
        for (const x of prev) x.dispose();
      }
      median = quantileOf(mm, masks);
    }
    kept = !!o.keepIds;
    return { estimate, rounds, medianBefore, medianAfter: median, invertSeconds, ...(kept ? { ids } : {}) };
  } catch (e) {
    estimate?.dispose();
    throw e;
  } finally {
    if (!kept) for (const x of ids) x.dispose();
    for (const x of mm) x.dispose();
  }
}

/** Share of real positions (mask > 0) where two reconstructions of the same windows differ. */
function changedShare(a: readonly Tensor[], b: readonly Tensor[], masks: readonly Tensor[]): number {
  let changed = 0, total = 0;
  noGrad(() => tidy(() => {
    masks.forEach((m, i) => {
      const real = m.gt(0);
      changed += a[i]!.ne(b[i]!).logicalAnd(real).sum().item();
      total += real.sum().item();
    });
  }));
  return total ? changed / total : 0;
}

/** Fit data: reconstructions, observed states, and weight 1 on real positions with mismatch ≤ threshold. */
function fitData(ids: readonly Tensor[], mm: readonly Tensor[], batches: readonly InterceptedBatch[], threshold: number): FitBatch[] {
  return ids.map((x, i) => {
    const b = batches[i]!;
    const weight = keep(noGrad(() => tidy(() => mm[i]!.le(threshold).logicalAnd(b.attentionMask.gt(0)).float())));
    return { ids: x, mask: b.attentionMask, obs: b.hidden, weight };
  });
}

/** Fits every candidate shape on half of the windows and keeps the one that re-encodes the other half best. */
function searchSpec(base: DevicePart, data: readonly FitBatch[], specs: readonly AdapterSpec[], o: EstimationOptions): DeviceEstimate {
  const half = (parity: number) => data.map((d) => {
    const B = d.ids.size(0);
    const keepRows = tidy(() => tensor(Array.from({ length: B }, (_, i) => (i % 2 === parity ? 1 : 0)), [B, 1]));
    const w = tidy(() => d.weight.mul(keepRows));
    keepRows.dispose();
    return { ...d, weight: keep(w) };
  });
  const train = half(0);
  const held = half(1);
  let best: { spec: AdapterSpec; loss: number } | null = null;
  try {
    for (const spec of specs) {
      const est = DeviceEstimate.create(base, spec, o.seed);
      try {
        est.fit(train, o);
        const total = held.reduce((a, d) => a + noGrad(() => tidy(() => d.weight.sum().item())), 0);
        const loss = held.reduce((a, d) => a + noGrad(() => tidy(() => {
          const h = est.device.forward(d.ids, { attentionMask: d.mask }).hidden;
          return positionDistance(h, d.obs, d.mask, { skipFirst: false, l2Weight: o.l2Weight }).mul(d.weight).sum().item();
        })), 0) / Math.max(1, total);
        if (!best || loss < best.loss) best = { spec, loss };
      } finally {
        est.dispose();
      }
    }
  } finally {
    for (const d of [...train, ...held]) d.weight.dispose();
  }
  return DeviceEstimate.create(base, best!.spec, o.seed);
}

/** The report of an estimation, in the shape Attack.adapt returns. */
export function adaptReport(res: EstimationResult, seconds: number, details: Record<string, unknown> = {}): AdaptReport {
  return {
    rounds: res.rounds.length, seconds, mismatchBefore: res.medianBefore, mismatchAfter: res.medianAfter,
    details: { ...details, firstInvertSeconds: res.invertSeconds, rounds: res.rounds },
  };
}

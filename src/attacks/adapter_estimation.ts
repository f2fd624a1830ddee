// Adapter estimation: the server holds many windows from the same device, and a personalised device
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
import { Tensor, noGrad, tidy, keep, optim, cat, tensor } from '../torch/index.js';
import { applyLoRA, mergeLoRA, targetProjections, DeviceModel, LoRALinear, type DevicePart } from '../models/index.js';
import { buildPieces } from '../models/slice.js';
import type { AdaptReport, InterceptedBatch, InterceptSource, ServerKnowledge } from './types.js';
import { checkBatch } from './common.js';
import { windowCount } from './intercept.js';
import { positionDistance } from './reencode.js';
import { mulberry32 } from '../util/prng.js';

/** One LoRA shape: what split fine-tuning announces (rank, targets; alpha only scales the fit). */
export interface AdapterSpec {
  rank: number;
  alpha?: number;
  targets: readonly string[];
  /**
   * Also fit the norms' gains and the token embedding rows (a device that fine-tuned every weight
   * changes those too; only rows of tokens in the reconstructions move).
   */
  extras?: boolean;
}

export interface EstimationOptions {
  /** Candidate adapter shapes; one = the protocol's announced shape, several = a search in round 1. */
  specs: readonly AdapterSpec[];
  /** Alternations of (invert, fit). */
  rounds: number;
  /** Adam steps of the first fit, of each later (warm-started) one, and of the last (on the best reconstructions). */
  steps: number;
  refineSteps: number;
  finalSteps: number;
  /**
   * The last fit starts again from the pretrained part (B = 0) instead of going on from the rounds'
   * estimate: the rounds' job is to get the reconstructions right, and an estimate carried through
   * them keeps what it learned from their early, wronger reconstructions and from a sample of the
   * windows. Fresh, it needs more steps (finalSteps 400, not 200) and ends nearer the victim's part
   * (src/attacks/README.md, "The last fit").
   */
  freshLast: boolean;
  lr: number;
  /** Windows per fitting step. */
  windows: number;
  /** A position is confident when its mismatch is at most this × the median mismatch. */
  confidence: number;
  /**
   * Skip estimation when the `cleanQuantile` quantile of the positions' mismatch with the known part
   * is at most `cleanBelow` (undrifted traffic). A low quantile, not the median: with the device's
   * exact weights every right token after a right prefix re-encodes to its observed state, however
   * many other positions a weak first inversion got wrong (deep splits), while a drifted device
   * leaves a mismatch at every position, right tokens included.
   */
  cleanBelow: number;
  cleanQuantile: number;
  /** Weight of relative squared L2 next to (1 - cosine), as in re-encoding. */
  l2Weight: number;
  /**
   * Windows the rounds invert and fit on, evenly spaced over the capture (0 = every window). The
   * adapters are the device's, shared by all its windows, so a sample estimates them as well as the
   * whole capture while the cost of estimating stops growing with the capture: only the final
   * inversion, with the estimate, covers every window.
   */
  sampleWindows: number;
  /**
   * The sample grows past `sampleWindows` until it holds at least this many observed values
   * (real positions × model width) per parameter the widest candidate shape fits: a sample sized
   * for rank-8 adapters on q,v lets adapters on every projection (five times the parameters) fit
   * the sampled windows and miss the rest (sampleSize).
   */
  samplePerParameter: number;
  seed: number;
}

export const ESTIMATION_DEFAULTS: EstimationOptions = {
  specs: [{ rank: 8, targets: ['q', 'v'] }],
  rounds: 4,
  steps: 150,
  refineSteps: 100,
  finalSteps: 400,
  freshLast: true,
  lr: 1e-2,
  windows: 16,
  confidence: 2,
  cleanBelow: 2e-3,
  cleanQuantile: 0.1,
  l2Weight: 1,
  sampleWindows: 24,
  samplePerParameter: 6,
  seed: 0,
};

/** What an estimate with `extras` also fits beside the adapters: the norms' gains and the token embedding rows. */
const NORM_GAIN = /(^|\.)norm\d*\.weight$/;
const EMBEDDING_ROWS = /(^|\.)wte\.weight$/;

/** Adapter shapes tried when the protocol announces none (split fine-tuning's usual choices). */
export const ADAPTER_SEARCH: readonly AdapterSpec[] = [
  { rank: 8, targets: ['q', 'v'] },
  { rank: 8, targets: ['q', 'k', 'v', 'o'] },
  { rank: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] },
  { rank: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], extras: true },
];

/** An attack's estimation options: the shapes the protocol announced (knowledge.adapters), else its own, else the search. */
export function estimationOptions(o: Partial<EstimationOptions>, k: ServerKnowledge): Partial<EstimationOptions> {
  return { ...o, specs: k.adapters ?? o.specs ?? ADAPTER_SEARCH };
}

/** A device part of the same architecture and split as `m`, with freshly initialised weights of its own. */
function emptyDevice(m: DeviceModel): DeviceModel {
  const c = m.config;
  return new DeviceModel(c, buildPieces(c, { embed: true, start: 0, end: m.splitPoint, head: false }));
}

/** A copy of the pretrained device part with trainable LoRA adapters (its own tensors). */
export class DeviceEstimate {
  private constructor(readonly device: DeviceModel, readonly spec: AdapterSpec) {}

  static create(base: DevicePart, spec: AdapterSpec, seed: number): DeviceEstimate {
    if (!(base instanceof DeviceModel)) throw new Error('adapter estimation needs the device part as loaded (a DeviceModel)');
    const copy = emptyDevice(base);
    copy.loadStateDict(base.stateDict());
    applyLoRA(copy, { rank: spec.rank, alpha: spec.alpha ?? 2 * spec.rank, targets: spec.targets, seed });
    if (spec.extras) for (const [n, p] of copy.namedParameters()) if (NORM_GAIN.test(n) || EMBEDDING_ROWS.test(n)) p.requiresGrad_(true);
    copy.eval();
    return new DeviceEstimate(copy, spec);
  }

  /**
   * Fits the adapters to (ids, observed states) on weighted positions with Adam, each step on a
   * group of about `windows` windows (in turn over the data; all of it when `windows` covers it),
   * the learning rate decaying linearly to a tenth. Returns the weighted mismatch of the last step
   * of every group.
   */
  fit(data: readonly FitBatch[], o: { steps: number; lr: number; l2Weight: number; windows: number }): number {
    if (this.frozen) throw new Error('this device estimate is frozen (its adapters are merged): fit before freeze()');
    const chunks = data.flatMap((d) => {
      const B = d.ids.size(0);
      const n = Math.min(B, o.windows);
      return Array.from({ length: Math.ceil(B / n) }, (_, i) => ({ d, from: i * n, n: Math.min(n, B - i * n) }));
    });
    // Consecutive chunks packed into groups of at most `windows` windows: one group per step.
    const groups: (typeof chunks)[] = [];
    for (const c of chunks) {
      const g = groups.at(-1);
      if (g && g.reduce((a, x) => a + x.n, 0) + c.n <= o.windows) g.push(c);
      else groups.push([c]);
    }
    const weightOf = (c: (typeof chunks)[number]) => noGrad(() => tidy(() => c.d.weight.narrow(0, c.from, c.n).sum().item()));
    const groupWeight = groups.map((g) => g.reduce((a, c) => a + weightOf(c), 0));
    const params = this.device.trainableParameters();
    const opt = new optim.Adam(params, { lr: o.lr });
    const recent: number[] = [];
    try {
      for (let s = 0; s < o.steps; s++) {
        const gi = s % groups.length;
        opt.lr = o.lr * (1 - (0.9 * s) / Math.max(1, o.steps - 1));
        let sum = 0;
        for (const { d, from, n } of groups[gi]!) {
          sum += tidy(() => {
            const part = (t: Tensor) => t.narrow(0, from, n);
            const h = this.device.forward(part(d.ids), { attentionMask: part(d.mask) }).hidden;
            const l = positionDistance(h, part(d.obs), part(d.mask), { skipFirst: false, l2Weight: o.l2Weight }).mul(part(d.weight)).sum().div(Math.max(1, groupWeight[gi]!));
            l.backward();
            return l.item();
          });
        }
        opt.step();
        opt.zeroGrad();
        recent[gi] = sum * groupWeight[gi]!;
      }
    } finally {
      opt.dispose();
    }
    const total = groupWeight.reduce((a, b) => a + b, 0);
    return recent.reduce((a, b) => a + (b ?? 0), 0) / Math.max(1, total);
  }

  /**
   * A copy with the adapters folded into its weights, for inverting: re-encoding runs every
   * candidate through the device part, and unmerged adapters add two products per projection to
   * each forward. The caller disposes it.
   */
  snapshot(): DeviceModel {
    const copy = emptyDevice(this.device);
    // Non-strict: the adapters' own tensors have no place in the copy; they are folded in below.
    copy.loadStateDict(this.device.stateDict(), false);
    const mods = new Map(copy.namedModules());
    noGrad(() => {
      for (const [name, m] of this.device.namedModules()) {
        if (!(m instanceof LoRALinear) || !m.lora) continue;
        const target = mods.get(name) as LoRALinear;
        tidy(() => { target.weight.copy_(m.mergedWeight()); });
      }
    });
    this.finish(copy);
    return copy;
  }

  /** Folds the adapters into this estimate's own weights once fitting is over; fit() is then refused. */
  freeze(): void {
    this.finish(this.device);
    this.frozen = true;
  }

  private frozen = false;

  private finish(m: DeviceModel): void {
    mergeLoRA(m);
    for (const p of m.parameters()) p.requiresGrad_(false);
    m.eval();
  }

  dispose(): void {
    this.device.dispose();
  }
}

/** Reconstructed ids with the observed states and per-position weights (1 = confident). */
export interface FitBatch {
  ids: Tensor;
  mask: Tensor;
  obs: Tensor;
  weight: Tensor;
}

/** Per-position mismatch [B, T] of ids re-encoded by a device part against observed states (0 at padding). */
export function mismatchOf(device: DevicePart, ids: Tensor, batch: InterceptedBatch, l2Weight: number): Tensor {
  return noGrad(() => tidy(() => positionDistance(device.forward(ids, { attentionMask: batch.attentionMask }).hidden, batch.hidden, batch.attentionMask, { skipFirst: false, l2Weight })));
}

/** The q-quantile of the real positions' mismatches (q = 0.5: the median). */
function quantileOf(mm: readonly Tensor[], masks: readonly Tensor[], q = 0.5): number {
  const vals = noGrad(() => tidy(() => cat(mm.map((m, i) => m.maskedSelect(masks[i]!.gt(0))), 0).toNumbers()));
  vals.sort((a, b) => a - b);
  return vals.length ? vals[Math.min(vals.length - 1, Math.floor(q * vals.length))]! : 0;
}

/** Median re-encoding mismatch of reconstructed ids (one [B, T] per batch) with a device part. */
export function medianMismatch(device: DevicePart, ids: readonly Tensor[], batches: readonly InterceptedBatch[], l2Weight: number): number {
  const mm = ids.map((x, i) => mismatchOf(device, x, batches[i]!, l2Weight));
  try {
    return quantileOf(mm, batches.map((b) => b.attentionMask));
  } finally {
    for (const m of mm) m.dispose();
  }
}

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
  // Inversion j (0: with the known part, r: after fit r) covers the wide set from the one the last fit learns from.
  const isWide = (j: number) => !!opts.wide && j >= o.rounds - 1;
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
    for (let r = 0; r < o.rounds; r++) {
      const data = fitData(ids, mm, batches, o.confidence * median);
      const t1 = performance.now();
      const confident = data.reduce((a, d) => a + noGrad(() => tidy(() => d.weight.sum().item())), 0) / masks.reduce((a, m) => a + noGrad(() => tidy(() => m.sum().item())), 0);
      try {
        // Round 1 fits from zero (B = 0: the pretrained part); later rounds refine the estimate on the
        // new, better reconstructions and their confident positions; with freshLast the last one
        // starts from zero again.
        if (estimate && r === o.rounds - 1 && o.freshLast) {
          const fresh = DeviceEstimate.create(base, estimate.spec, o.seed);
          estimate.dispose();
          estimate = fresh;
        }
        const next: DeviceEstimate = estimate ?? (o.specs.length > 1 ? searchSpec(base, data, o.specs, o) : DeviceEstimate.create(base, o.specs[0]!, o.seed));
        const fitted = next.fit(data, { ...o, steps: !estimate ? o.steps : r === o.rounds - 1 ? o.finalSteps : o.refineSteps });
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
        const last = r === o.rounds - 1;
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

/**
 * Parameters an estimate of this shape fits: the adapters (rank × (in + out) per adapted
 * projection, matched by name as applyLoRA matches them) and, with extras, the norms' gains. The
 * token embedding rows extras also frees are left out: each row moves only with its own token's
 * positions, so they do not share the sample's observations the way the adapters do.
 */
export function adapterParameterCount(base: DeviceModel, spec: AdapterSpec): number {
  let n = targetProjections(base, spec.targets).reduce((a, [, m]) => a + spec.rank * (m.inFeatures + m.outFeatures), 0);
  if (spec.extras) for (const [name, p] of base.namedParameters()) if (NORM_GAIN.test(name)) n += p.numel;
  return n;
}

/**
 * Windows the estimation's rounds invert and fit on: `sampleWindows`, or more when the widest
 * candidate shape needs them — at least `samplePerParameter` observed values (real positions ×
 * model width) per fitted parameter. At the defaults (rank 8 on q,v) that stays 24 windows on
 * stories260K k = 4; adapters on every projection there need about 108, i.e. every window of a
 * small capture. 0 = every window.
 */
export function sampleSize(base: DevicePart, batches: readonly InterceptedBatch[], o: Pick<EstimationOptions, 'specs' | 'sampleWindows' | 'samplePerParameter'>): number {
  if (o.sampleWindows <= 0) return 0;
  const windows = windowCount(batches);
  if (!(base instanceof DeviceModel) || windows === 0 || o.samplePerParameter <= 0) return o.sampleWindows;
  const positions = noGrad(() => tidy(() => batches.reduce((a, b) => a + b.attentionMask.sum().item(), 0)));
  const perWindow = (positions / windows) * base.config.dModel;
  const params = Math.max(...o.specs.map((s) => adapterParameterCount(base, s)));
  return Math.max(o.sampleWindows, Math.ceil((o.samplePerParameter * params) / Math.max(1, perWindow)));
}

/** The windows an attack's estimation rounds run on: sampleSize of them, drawn by sampleWindows. */
export function estimationSample(base: DevicePart, batches: readonly InterceptedBatch[], eo: Partial<EstimationOptions>): WindowSample {
  const o = { ...ESTIMATION_DEFAULTS, ...eo };
  return sampleWindows(batches, sampleSize(base, batches, o), o.seed);
}

/**
 * A sample of a capture's windows: sub-batches, and for each the batch it came from and the rows it
 * took (null: the whole batch, not copied).
 */
export interface WindowSample {
  batches: InterceptedBatch[];
  origin: { batch: number; rows: Tensor | null }[];
  /** Every window is in the sample (the batches are the capture's own). */
  all: boolean;
}

/**
 * `n` windows spread over the batches: the capture cut into n equal strata, one window drawn from
 * each (seeded), so every part of the capture is represented. Drawn, not the first of each stratum:
 * a capture whose text repeats (a device sending the same text each epoch) would alias an evenly
 * spaced pick onto a few distinct windows (4 repeats, 24 picks: 6 distinct). Every window when
 * n ≤ 0 or the capture is no larger. Free with releaseSample.
 */
export function sampleWindows(batches: readonly InterceptedBatch[], n: number, seed = 0): WindowSample {
  const sizes = batches.map((b) => b.hidden.size(0));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (n <= 0 || total <= n) return { batches: [...batches], origin: batches.map((_, i) => ({ batch: i, rows: null })), all: true };
  const rand = mulberry32(seed ^ 0x5a3b1e);
  const picked = new Set(Array.from({ length: n }, (_, j) => {
    const from = Math.floor((j * total) / n), to = Math.floor(((j + 1) * total) / n);
    return from + Math.floor(rand() * (to - from));
  }));
  const out: WindowSample = { batches: [], origin: [], all: false };
  let offset = 0;
  try {
    batches.forEach((b, i) => {
      const rows = Array.from({ length: sizes[i]! }, (_, r) => r).filter((r) => picked.has(offset + r));
      offset += sizes[i]!;
      if (!rows.length) return;
      const idx = tensor(rows, [rows.length], { dtype: 'int64' });
      out.origin.push({ batch: i, rows: idx });
      out.batches.push(Object.freeze({ hidden: noGrad(() => b.hidden.indexSelect(0, idx)), attentionMask: noGrad(() => b.attentionMask.indexSelect(0, idx)), splitPoint: b.splitPoint }));
    });
    return out;
  } catch (e) {
    releaseSample(out);
    throw e;
  }
}

export function releaseSample(s: WindowSample): void {
  if (s.all) return;
  releaseBatches(s.batches);
  for (const o of s.origin) o.rows?.dispose();
}

/**
 * Every window of a capture as batches the caller owns (a source may free a batch once the next is
 * read), checked against the device part; free them with releaseBatches. Consecutive batches are
 * merged into batches of up to `batchSize` windows (right-padded to the longest: padding is masked
 * everywhere): a capture holds what the device sent, often a few windows per training step, and
 * every stage after this (proposals, fits, the search) costs per batch as well as per window.
 * Window order is kept.
 */
export function ownBatches(source: InterceptSource, device: DevicePart, batchSize = 32): InterceptedBatch[] {
  const out: InterceptedBatch[] = [];
  let group: InterceptedBatch[] = [];
  const flush = () => {
    const parts = group;
    group = [];
    if (parts.length <= 1) {
      out.push(...parts);
      return;
    }
    try {
      const T = Math.max(...parts.map((g) => g.attentionMask.size(1)));
      const padded = (x: Tensor, extra: number[]) => (x.size(1) < T ? x.pad([...extra, 0, T - x.size(1)]) : x);
      const hidden = keep(noGrad(() => tidy(() => cat(parts.map((g) => padded(g.hidden, [0, 0])), 0))));
      const mask = keep(noGrad(() => tidy(() => cat(parts.map((g) => padded(g.attentionMask, [])), 0))));
      out.push(Object.freeze({ hidden, attentionMask: mask, splitPoint: device.splitPoint }));
    } finally {
      releaseBatches(parts);
    }
  };
  try {
    for (const b of source.batches(batchSize)) {
      checkBatch(b, device.config.dModel, device.splitPoint);
      if (windowCount(group) + b.hidden.size(0) > batchSize) flush();
      group.push(Object.freeze({ hidden: keep(noGrad(() => b.hidden.clone())), attentionMask: keep(noGrad(() => b.attentionMask.clone())), splitPoint: b.splitPoint }));
    }
    flush();
    return out;
  } catch (e) {
    releaseBatches(group);
    releaseBatches(out);
    throw e;
  }
}

export function releaseBatches(batches: readonly InterceptedBatch[]): void {
  for (const b of batches) {
    b.hidden.dispose();
    b.attentionMask.dispose();
  }
}

/** The report of an estimation, in the shape Attack.adapt returns. */
export function adaptReport(res: EstimationResult, seconds: number, details: Record<string, unknown> = {}): AdaptReport {
  return {
    rounds: res.rounds.length, seconds, mismatchBefore: res.medianBefore, mismatchAfter: res.medianAfter,
    details: { ...details, firstInvertSeconds: res.invertSeconds, rounds: res.rounds },
  };
}

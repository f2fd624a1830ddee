// The windows estimation works on: the capture read into batches the attack owns, and the sample
// of them the rounds invert and fit on.
import { Tensor, noGrad, tidy, keep, cat, tensor } from '../../torch/index.js';
import { DeviceModel, type DevicePart } from '../../models/index.js';
import type { InterceptedBatch, InterceptSource } from '../types.js';
import { checkBatch } from '../common.js';
import { windowCount } from '../intercept.js';
import { mulberry32 } from '../../util/prng.js';
import { ESTIMATION_DEFAULTS, type EstimationOptions } from './options.js';
import { adapterParameterCount } from './device_estimate.js';

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

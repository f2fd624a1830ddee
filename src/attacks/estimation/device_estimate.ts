// An estimate of a personalized device part: a copy of the pretrained part with trainable LoRA
// adapters, fitted to (reconstructed ids, observed states) and merged for inverting.
import { Tensor, noGrad, tidy, optim } from '../../torch/index.js';
import { applyLoRA, mergeLoRA, targetProjections, DeviceModel, LoRALinear, type DevicePart } from '../../models/index.js';
import { buildPieces } from '../../models/slice.js';
import { positionDistance } from '../reencode.js';
import type { AdapterSpec } from './options.js';

/** What an estimate with `extras` also fits beside the adapters: the norms' gains and the token embedding rows. */
const NORM_GAIN = /(^|\.)norm\d*\.weight$/;
const EMBEDDING_ROWS = /(^|\.)wte\.weight$/;

/** A device part of the same architecture and split as `m`, with freshly initialised weights of its own. */
export function emptyDevice(m: DeviceModel): DeviceModel {
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

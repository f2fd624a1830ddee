// Optimisation-based white-box inversion (Song & Raghunathan 2020's relaxation; BiSR(f) of Chen
// et al. 2024). Per intercepted batch, optimise logits Z [B, T, V] so that the device part run on
// soft tokens softmax(Z/τ)·E reproduces the observed H_k (cosine + relative L2), with Adam; read
// the tokens off with argmax. `opt` starts from random logits; `bisr` (BiSR-chaining) first
// trains a SIP inverter on auxiliary data and starts from its logits.
import { Tensor, F, noGrad, tidy, keep, randn, optim, full, cat, grad, tensor } from '../torch/index.js';
import type { AdaptReport, Attack, AuxData, Budget, FitOptions, InterceptedBatch, InterceptSource, Inversion, ServerKnowledge } from './types.js';
import type { DevicePart } from '../models/types.js';
import { adaptReport, estimateDevice, estimationOptions, medianMismatch, ownBatches, releaseBatches, releaseSample, estimationSample, type DeviceEstimate, type EstimationOptions } from './estimation/index.js';
import { ZERO_BUDGET, checkBatch, decodeRows, rowsFromIds, seedAll } from './common.js';
import { windowCount } from './intercept.js';
import { FirstTokenIndex } from './framing.js';
import { positionalPart, positionDistance } from './reencode.js';
import { SipAttack, type SipConfig } from './sip.js';
import { readMeta, saveCheckpoint, targetOf } from './checkpoint.js';

export interface OptimizeConfig {
  /** Adam steps per intercepted batch. */
  steps: number;
  lr: number;
  /** Softmax temperature, annealed linearly from tauStart to tauEnd. */
  tauStart: number;
  tauEnd: number;
  /** Weight of relative squared L2 next to (1 - cosine). */
  l2Weight: number;
  /** Scale applied to SIP's log-probabilities when initialising Z from them (bisr). */
  initScale: number;
  /** Std of the random initial logits (opt). */
  initStd: number;
  seed: number;
}

// Tuned on stories260K (k = 1, 3): cosine alone (l2Weight 0) beat cosine + L2 and the other lr/τ settings tried.
export const OPTIMIZE_DEFAULTS: OptimizeConfig = { steps: 400, lr: 0.1, tauStart: 1, tauEnd: 0.2, l2Weight: 0, initScale: 1, initStd: 0.1, seed: 0 };

/**
 * Runs the relaxation on one batch from initial logits z0 [B, T, V] (consumed) and returns
 * the optimised logits (no grad).
 */
export function optimizeLogits(device: ServerKnowledge['device'], batch: InterceptedBatch, z0: Tensor, c: OptimizeConfig, first: readonly number[] | null): Tensor {
  const [B, T] = z0.shape as [number, number];
  const z = keep(noGrad(() => z0.detach().clone())).requiresGrad_(true);
  z0.dispose();
  const pos = keep(positionalPart(device, T));
  const E = device.embeddingMatrix;
  // Token 0, when identified from the traffic (framing.ts), is fixed and left out of the loss.
  const firstRow = first === null ? null : keep(noGrad(() => E.indexSelect(0, tensor(first as number[], [B], { dtype: 'int64' })).unsqueeze(1)));
  const opt = new optim.Adam([z], { lr: c.lr });
  const obs = batch.hidden;
  const mask = batch.attentionMask;
  const counted = keep(noGrad(() => {
    let m = mask.float();
    if (first !== null) m = m.mul(tidy(() => cat([full([1, 1], 0), full([1, T - 1], 1)], 1)));
    return m.sum().clamp(1);
  }));
  try {
    for (let s = 0; s < c.steps; s++) {
      const tau = c.tauStart + ((c.tauEnd - c.tauStart) * s) / Math.max(1, c.steps - 1);
      tidy(() => {
        let emb = F.softmax(z.div(tau), -1).matmul(E);
        if (firstRow) emb = cat([firstRow, emb.narrow(1, 1, T - 1)], 1);
        const h = device.forwardEmbeds(emb.add(pos), { attentionMask: mask }).hidden;
        const loss = positionDistance(h, obs, mask, { skipFirst: first !== null, l2Weight: c.l2Weight }).sum().div(counted);
        // Gradient w.r.t. Z only: the device part's weights are left untouched.
        z.grad = grad([loss], [z])[0]!;
      });
      opt.step();
      opt.zeroGrad();
    }
    return noGrad(() => z.detach().clone());
  } finally {
    opt.dispose();
    z.dispose();
    pos.dispose();
    firstRow?.dispose();
    counted.dispose();
  }
}

export class OptimizeAttack implements Attack {
  readonly name: string = 'opt';
  config: OptimizeConfig;
  protected first: FirstTokenIndex;
  /** The estimate of the victim's device part (BiSR's adaptation), or null: the known part. */
  protected estimate: DeviceEstimate | null = null;
  constructor(readonly knowledge: ServerKnowledge, config: Partial<OptimizeConfig> = {}) {
    this.config = { ...OPTIMIZE_DEFAULTS, ...config };
    this.first = new FirstTokenIndex(knowledge.device);
  }
  /** The device part the optimisation matches through. */
  get device(): DevicePart {
    return this.estimate?.device ?? this.knowledge.device;
  }
  deviceEstimate(): DevicePart {
    return this.device;
  }
  protected setEstimate(e: DeviceEstimate | null): void {
    this.estimate?.dispose();
    this.estimate = e;
    this.first.dispose();
    this.first = new FirstTokenIndex(this.device);
  }
  async fit(_aux: AuxData, _o?: FitOptions): Promise<Budget> {
    return ZERO_BUDGET;
  }
  protected initialLogits(batch: InterceptedBatch): Tensor {
    const [B, T] = batch.attentionMask.shape as [number, number];
    return noGrad(() => randn([B, T, this.knowledge.device.config.vocabSize]).mul(this.config.initStd));
  }
  invert(batch: InterceptedBatch): Inversion {
    const d = this.knowledge.device;
    checkBatch(batch, d.config.dModel, d.splitPoint);
    const first = this.first.firstTokens(batch.hidden);
    seedAll(this.config.seed);
    const rows = tidy(() => rowsFromIds(this.optimized(batch, this.initialLogits(batch), this.device, first), batch.attentionMask, first));
    return decodeRows(rows, this.knowledge.tokenizer);
  }
  /** Argmax ids [B, T] of the optimisation through `device` from initial logits z0 (consumed). */
  protected optimized(batch: InterceptedBatch, z0: Tensor, device: DevicePart, first: readonly number[]): Tensor {
    return tidy(() => optimizeLogits(device, batch, z0, this.config, first).argmax(-1));
  }
  save(dir: string): void {
    saveCheckpoint(dir, { attack: this.name, target: targetOf(this.knowledge.device), config: this.config, budget: ZERO_BUDGET }, {});
  }
  load(dir: string): void {
    this.config = readMeta(dir, this.name, this.knowledge.device).config as OptimizeConfig;
  }
  budget(): Budget {
    return ZERO_BUDGET;
  }
  dispose(): void {
    this.estimate?.dispose();
    this.estimate = null;
    this.first.dispose();
  }
}

export type BisrConfigInput = Partial<OptimizeConfig> & { sip?: Partial<SipConfig>; adaptation?: Partial<EstimationOptions> | false };

/**
 * BiSR-chaining: SIP's logits initialise the white-box optimisation. With adaptation (default), the
 * optimisation stage matches through an estimate of the victim's device part (estimation/):
 * round 0 reads SIP's argmax, each later round optimises through the current estimate.
 */
export class BisrAttack extends OptimizeAttack {
  override readonly name: string;
  readonly sip: SipAttack;
  readonly adaptation: Partial<EstimationOptions> | false;
  constructor(knowledge: ServerKnowledge, config: BisrConfigInput = {}, name = 'bisr') {
    const { sip, adaptation, ...rest } = config;
    super(knowledge, { tauEnd: 0.5, steps: 200, lr: 0.05, l2Weight: 1, ...rest });
    this.name = name;
    this.sip = new SipAttack(knowledge, sip);
    this.adaptation = adaptation ?? {};
  }
  async adapt(source: InterceptSource): Promise<AdaptReport> {
    return (await this.corpus(source, false)).report;
  }
  async invertAll(source: InterceptSource): Promise<{ inversion: Inversion; report: AdaptReport }> {
    const r = await this.corpus(source, true);
    return { inversion: r.inversion!, report: r.report };
  }
  private async corpus(source: InterceptSource, invertToo: boolean): Promise<{ inversion: Inversion | null; report: AdaptReport }> {
    const t0 = performance.now();
    this.setEstimate(null);
    const batches = ownBatches(source, this.knowledge.device);
    const init = batches.map((b) => keep(this.initialLogits(b)));
    let last: Tensor[] | null = null;
    try {
      let report: AdaptReport = { rounds: 0, seconds: 0 };
      if (this.adaptation !== false) {
        const eo = estimationOptions(this.adaptation, source);
        const sample = estimationSample(this.knowledge.device, batches, eo);
        const sampleInit = sample.all ? init : sample.origin.map((o) => noGrad(() => init[o.batch]!.indexSelect(0, o.rows!)));
        try {
          const res = estimateDevice(this.knowledge.device, sample.batches, (device, round) => {
            const index = new FirstTokenIndex(device);
            try {
              return sample.batches.map((b, i) => keep(round === 0 ? noGrad(() => sampleInit[i]!.argmax(-1)) : this.optimized(b, noGrad(() => sampleInit[i]!.clone()), device, index.firstTokens(b.hidden))));
            } finally {
              index.dispose();
            }
          }, { ...eo, keepIds: sample.all, invertLast: sample.all || !invertToo });
          this.setEstimate(res.estimate);
          // Clean traffic: round 0 was SIP's argmax only, so the optimisation still has to run.
          if (res.estimate && sample.all) last = res.ids ?? null;
          else res.ids?.forEach((t) => t.dispose());
          report = adaptReport(res, (performance.now() - t0) / 1000, { sampleWindows: windowCount(sample.batches) });
        } finally {
          if (!sample.all) {
            sampleInit.forEach((t) => t.dispose());
            releaseSample(sample);
          }
        }
      }
      if (!invertToo) return { inversion: null, report };
      // The last round already optimised through the final estimate; otherwise optimise now.
      const firsts = batches.map((b) => this.first.firstTokens(b.hidden));
      const done = last;
      last = batches.map((b, i) => done?.[i] ?? this.optimized(b, noGrad(() => init[i]!.clone()), this.device, firsts[i]!));
      if (this.estimate && report.mismatchAfter === undefined) {
        report = { ...report, mismatchAfter: medianMismatch(this.device, last, batches, this.config.l2Weight), seconds: (performance.now() - t0) / 1000 };
      }
      const final = last;
      const rows = batches.flatMap((b, i) => rowsFromIds(final[i]!, b.attentionMask, firsts[i]!));
      return { inversion: decodeRows(rows, this.knowledge.tokenizer), report };
    } finally {
      last?.forEach((t) => t.dispose());
      init.forEach((t) => t.dispose());
      releaseBatches(batches);
    }
  }
  override async fit(aux: AuxData, o?: FitOptions): Promise<Budget> {
    return this.sip.fit(aux, o);
  }
  protected override initialLogits(batch: InterceptedBatch): Tensor {
    return tidy(() => F.logSoftmax(this.sip.logits(batch), -1).mul(this.config.initScale));
  }
  override save(dir: string): void {
    saveCheckpoint(dir, { attack: this.name, target: targetOf(this.knowledge.device), config: { optimize: this.config, sip: this.sip.config }, budget: this.sip.budget() }, { model: this.sip.model });
  }
  override load(dir: string): void {
    const meta = readMeta(dir, [this.name, 'bisr', 'bisr-noadapt'], this.knowledge.device);
    const c = meta.config as { optimize: OptimizeConfig; sip: SipConfig };
    this.config = c.optimize;
    this.sip.loadFrom(dir, c.sip, meta.budget as Budget);
  }
  override budget(): Budget {
    return this.sip.budget();
  }
  override dispose(): void {
    this.sip.dispose();
    super.dispose();
  }
}

// Optimisation-based white-box inversion (Song & Raghunathan 2020's relaxation; BiSR(f) of Chen
// et al. 2024). Per intercepted batch, optimise logits Z [B, T, V] so that the device part run on
// soft tokens softmax(Z/τ)·E reproduces the observed H_k (cosine + relative L2), with Adam; read
// the tokens off with argmax. `opt` starts from random logits; `bisr` (BiSR-chaining) first
// trains a SIP inverter on auxiliary data and starts from its logits.
import { Tensor, F, noGrad, tidy, keep, randn, optim, full, cat, grad, tensor } from '../torch/index.js';
import type { Attack, AuxData, Budget, FitOptions, InterceptedBatch, Inversion, ServerKnowledge } from './types.js';
import { ZERO_BUDGET, checkBatch, decodeRows, rowsFromIds, seedAll } from './common.js';
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
  protected readonly first: FirstTokenIndex;
  constructor(readonly knowledge: ServerKnowledge, config: Partial<OptimizeConfig> = {}) {
    this.config = { ...OPTIMIZE_DEFAULTS, ...config };
    this.first = new FirstTokenIndex(knowledge.device);
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
    seedAll(this.config.seed);
    const first = this.first.firstTokens(batch.hidden);
    const rows = tidy(() => {
      const z = optimizeLogits(d, batch, this.initialLogits(batch), this.config, first);
      return rowsFromIds(z.argmax(-1), batch.attentionMask, first);
    });
    return decodeRows(rows, this.knowledge.tokenizer);
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
    this.first.dispose();
  }
}

/** BiSR-chaining: SIP's logits initialise the white-box optimisation. */
export class BisrAttack extends OptimizeAttack {
  override readonly name = 'bisr';
  readonly sip: SipAttack;
  constructor(knowledge: ServerKnowledge, config: Partial<OptimizeConfig> & { sip?: Partial<SipConfig> } = {}) {
    const { sip, ...rest } = config;
    super(knowledge, { tauEnd: 0.5, steps: 200, lr: 0.05, l2Weight: 1, ...rest });
    this.sip = new SipAttack(knowledge, sip);
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
    const meta = readMeta(dir, this.name, this.knowledge.device);
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

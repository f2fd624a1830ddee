// TAG-style gradient matching (Deng et al. 2021, "TAG: Gradient Attack on Transformer-based
// Language Models") on what a U-shape split fine-tuning step puts on the wire.
//
// What the server observes in one U-shape training step: H_k, its own output O = blocks[k, L-m)(H_k)
// sent to the device's tail, and g = ∂L/∂O sent back, where L is the device's next-token loss (mean
// cross-entropy over the real label positions). The tail (blocks [L-m, L), final norm, head) has
// pretrained weights the server holds; LoRA fine-tuning keeps the device's copy close. The server's
// own LoRA gradients are a function of (H_k, g) and its own weights, so g is the richest gradient it
// observes: we match g directly rather than a lossy projection of it.
//
// Like TAG, optimise relaxed labels y = softmax(Z/τ) [B, T-1, V] so that the gradient the tail would
// produce for them, ∂L(y)/∂O, matches the observed one in L2 + α·L1 (each relative to the observed
// norm); then x_{t+1} = argmax_v Z[t]. ∂L(y)/∂O needs a gradient of a gradient (double backward).
// Token 0 is never a label, but the device part is causal: H_k at position 0 depends on token 0
// alone, so running the device part on every vocabulary token once identifies it exactly (BOS or not;
// training streams are often cut mid-text).
import { RevertlmError } from '../util/errors.js';
import { Tensor, F, noGrad, tidy, keep, randn, optim, grad, cat, dispose } from '../torch/index.js';
import { FirstTokenIndex } from './framing.js';
import { Transformer, splitModel, type ServerModel } from '../models/index.js';
import { FINETUNE_TENSORS, type Attack, type AuxData, type Budget, type FitOptions, type InterceptedBatch, type Inversion, type ServerKnowledge } from './types.js';
import { ZERO_BUDGET, checkBatch, decodeRows, rowsFromIds, seedAll } from './common.js';
import { readMeta, saveCheckpoint, targetOf } from './checkpoint.js';

export interface GradientConfig {
  /** Adam steps per captured training step. */
  steps: number;
  lr: number;
  /** Softmax temperature of the relaxed labels, annealed linearly from tauStart to tauEnd. */
  tauStart: number;
  tauEnd: number;
  /** TAG's α: weight of the L1 term next to the L2 term. */
  l1Weight: number;
  /** Std of the random initial label logits. */
  initStd: number;
  seed: number;
}

export const GRADIENT_DEFAULTS: GradientConfig = { steps: 200, lr: 0.1, tauStart: 1, tauEnd: 0.2, l1Weight: 0.1, initStd: 0.1, seed: 0 };

export class GradientAttackError extends RevertlmError {}

export class GradientAttack implements Attack {
  readonly name = 'tag';
  config: GradientConfig;
  private readonly tails = new Map<number, ServerModel>();
  private readonly first: FirstTokenIndex;

  constructor(readonly knowledge: ServerKnowledge, config: Partial<GradientConfig> = {}) {
    this.config = { ...GRADIENT_DEFAULTS, ...config };
    if (!(knowledge.lm instanceof Transformer)) throw new GradientAttackError('the tag attack needs the pretrained model (knowledge.lm) to rebuild the device tail');
    this.first = new FirstTokenIndex(knowledge.device);
  }

  async fit(_aux: AuxData, _o?: FitOptions): Promise<Budget> {
    return ZERO_BUDGET;
  }

  /** The pretrained tail: blocks [L - m, L) + final norm + head (shares the model's tensors). */
  private tail(m: number): ServerModel {
    const lm = this.knowledge.lm as Transformer;
    const L = lm.config.nLayers;
    if (!Number.isInteger(m) || m < 0 || m > L - this.knowledge.device.splitPoint) {
      throw new GradientAttackError(`the capture says the device runs ${m} tail blocks, impossible for split ${this.knowledge.device.splitPoint} of a ${L}-block model`);
    }
    let t = this.tails.get(m);
    if (!t) {
      t = splitModel(lm, L - m).server;
      this.tails.set(m, t);
    }
    return t;
  }

  invert(batch: InterceptedBatch): Inversion {
    const d = this.knowledge.device;
    checkBatch(batch, d.config.dModel, d.splitPoint);
    const out = batch.gradients?.get(FINETUNE_TENSORS.serverOutput);
    const gObs = batch.gradients?.get(FINETUNE_TENSORS.serverOutputGrad);
    if (!out || !gObs || batch.tailBlocks === undefined) {
      throw new GradientAttackError(
        'the tag attack needs U-shape fine-tuning traffic (the server output and the gradient the device returns for it); ' +
          'record it with `revertlm serve --tail M --capture DIR` while a device fine-tunes, then attack that capture',
      );
    }
    const [B, T] = batch.hidden.shape as [number, number];
    if (out.shape.join() !== gObs.shape.join() || out.size(0) !== B || out.size(1) !== T) {
      throw new GradientAttackError(`server output [${out.shape}] and its gradient [${gObs.shape}] do not match the batch [${B}, ${T}]`);
    }
    seedAll(this.config.seed);
    const rows = tidy(() => {
      const first = this.first.identify(batch.hidden.select(1, 0));
      const ids = T < 2 ? first : cat([first, this.matchLabels(this.tail(batch.tailBlocks!), out, gObs, batch.attentionMask)], 1);
      return rowsFromIds(ids, batch.attentionMask, null);
    });
    return decodeRows(rows, this.knowledge.tokenizer);
  }

  /** Optimised label ids [B, T - 1] (label t is token t + 1). */
  private matchLabels(tail: ServerModel, out: Tensor, gObs: Tensor, mask: Tensor): Tensor {
    const c = this.config;
    const [B, T] = out.shape as [number, number];
    const V = this.knowledge.device.config.vocabSize;
    const o = keep(noGrad(() => out.detach().clone())).requiresGrad_(true);
    const z = keep(noGrad(() => randn([B, T - 1, V]).mul(c.initStd))).requiresGrad_(true);
    const fixed = noGrad(() =>
      tidy(() => {
        const labelMask = mask.narrow(1, 1, T - 1).float();
        return { labelMask, n: labelMask.sum().clamp(1), l2: gObs.pow(2).sum().sqrt().clamp(1e-12), l1: gObs.abs().sum().clamp(1e-12) };
      }),
    );
    const opt = new optim.Adam([z], { lr: c.lr });
    try {
      for (let s = 0; s < c.steps; s++) {
        const tau = c.tauStart + ((c.tauEnd - c.tauStart) * s) / Math.max(1, c.steps - 1);
        tidy(() => {
          const y = F.softmax(z.div(tau), -1);
          // The tail runs again every step: backpropagating `dist` frees the graph that ∂L/∂O was built on.
          const logp = F.logSoftmax(tail.forward(o, { attentionMask: mask }).output.narrow(1, 0, T - 1), -1);
          // The device's loss with soft labels: mean over real label positions of -Σ_v y·log p.
          const loss = y.mul(logp).sum(-1).mul(fixed.labelMask).sum().neg().div(fixed.n);
          const g = grad([loss], [o], undefined, true)[0]!;
          const diff = g.sub(gObs);
          const dist = diff.pow(2).sum().sqrt().div(fixed.l2).add(diff.abs().sum().div(fixed.l1).mul(c.l1Weight));
          z.grad = grad([dist], [z])[0]!;
        });
        opt.step();
        opt.zeroGrad();
      }
      return noGrad(() => z.argmax(-1));
    } finally {
      opt.dispose();
      o.dispose();
      z.dispose();
      dispose(fixed);
    }
  }

  save(dir: string): void {
    saveCheckpoint(dir, { attack: this.name, target: targetOf(this.knowledge.device), config: this.config, budget: ZERO_BUDGET }, {});
  }
  load(dir: string): void {
    this.config = readMeta(dir, this.name, this.knowledge.device).config as GradientConfig;
  }
  budget(): Budget {
    return ZERO_BUDGET;
  }
  dispose(): void {
    // The tails share the pretrained model's modules; the model's owner frees them.
    this.tails.clear();
    this.first.dispose();
  }
}

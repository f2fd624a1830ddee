import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { zerosLike } from '../creation.js';
import { keep } from '../scope.js';
import { noGrad } from '../autograd.js';

/** Base of the optimisers: a flat parameter list, a learning rate, and named state tensors. */
export abstract class Optimizer {
  lr: number;
  /** Number of step() calls. */
  stepCount = 0;
  /**
   * Updates each parameter has received (torch.optim's per-parameter state['step']): a parameter
   * without a gradient is skipped and does not advance, so Adam's bias correction and SGD's
   * momentum start from its own first update.
   */
  protected readonly paramSteps: number[];
  protected readonly state = new Map<string, Tensor[]>();

  constructor(readonly params: Tensor[], lr: number) {
    if (!(lr >= 0)) throw new RangeError(`learning rate must be >= 0, got ${lr}`);
    if (params.length === 0) throw new Error('optimizer got no parameters (are they all frozen?)');
    this.lr = lr;
    this.paramSteps = params.map(() => 0);
  }

  protected advance(updated: boolean[]): void {
    updated.forEach((u, i) => {
      if (u) this.paramSteps[i]!++;
    });
  }

  abstract step(): void;

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** Per-parameter state slot (zeros like each parameter), created on first use. */
  protected slot(name: string): Tensor[] {
    let s = this.state.get(name);
    if (!s) {
      s = noGrad(() => this.params.map((p) => keep(zerosLike(p))));
      this.state.set(name, s);
    }
    return s;
  }

  /** State tensors by name ("exp_avg.3") plus the step counts, for checkpoints. */
  stateDict(): { step: number; lr: number; steps: number[]; tensors: Map<string, Tensor> } {
    const tensors = new Map<string, Tensor>();
    for (const [name, list] of this.state) list.forEach((t, i) => tensors.set(`${name}.${i}`, t));
    return { step: this.stepCount, lr: this.lr, steps: [...this.paramSteps], tensors };
  }

  /** Restores a stateDict(); without per-parameter `steps` every parameter is taken to be at `step`. */
  loadStateDict(sd: { step: number; lr?: number; steps?: number[]; tensors: Map<string, Tensor> }): void {
    if (sd.steps && sd.steps.length !== this.params.length) {
      throw new Error(`optimizer state has steps for ${sd.steps.length} parameters, this optimizer has ${this.params.length}`);
    }
    this.stepCount = sd.step;
    this.params.forEach((_, i) => (this.paramSteps[i] = sd.steps?.[i] ?? sd.step));
    if (sd.lr !== undefined) this.lr = sd.lr;
    const names = new Set([...sd.tensors.keys()].map((k) => k.slice(0, k.lastIndexOf('.'))));
    for (const name of names) {
      const slot = this.slot(name);
      slot.forEach((t, i) => {
        const src = sd.tensors.get(`${name}.${i}`);
        if (!src) throw new Error(`optimizer state '${name}.${i}' missing from checkpoint`);
        if (src.shape.join() !== t.shape.join()) {
          throw new Error(`optimizer state '${name}.${i}': expected shape [${t.shape}], got [${src.shape}]`);
        }
        t.copy_(src);
      });
    }
  }

  dispose(): void {
    for (const list of this.state.values()) for (const t of list) t.dispose();
    this.state.clear();
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** Adam (L2 weight decay added to the gradient), as torch.optim.Adam. */
export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  protected decoupled = false;
  constructor(params: Tensor[], o: AdamOptions = {}) {
    super(params, o.lr ?? 1e-3);
    this.betas = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
  }
  step(): void {
    this.stepCount++;
    const updated = native.adamStep(
      this.params.map((p) => p.handle),
      this.slot('exp_avg').map((t) => t.handle),
      this.slot('exp_avg_sq').map((t) => t.handle),
      this.paramSteps.map((s) => s + 1), this.lr, this.betas[0], this.betas[1], this.eps, this.weightDecay, this.decoupled,
    );
    this.advance(updated);
  }
}

/** AdamW (decoupled weight decay, default 0.01), as torch.optim.AdamW. */
export class AdamW extends Adam {
  constructor(params: Tensor[], o: AdamOptions = {}) {
    super(params, { weightDecay: 0.01, ...o });
    this.decoupled = true;
  }
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** SGD with optional momentum / Nesterov and L2 weight decay, as torch.optim.SGD. */
export class SGD extends Optimizer {
  readonly o: Required<SGDOptions>;
  constructor(params: Tensor[], o: SGDOptions) {
    super(params, o.lr);
    this.o = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...o };
  }
  step(): void {
    this.stepCount++;
    const bufs = this.o.momentum ? this.slot('momentum_buffer').map((t) => t.handle) : [];
    const updated = native.sgdStep(
      this.params.map((p) => p.handle), bufs, this.lr, this.o.momentum, this.o.dampening, this.o.weightDecay,
      this.o.nesterov, this.paramSteps.map((s) => s === 0),
    );
    this.advance(updated);
  }
}

/** Scales gradients in place so their global L2 norm is at most maxNorm; returns the norm before. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return native.clipGradNorm(params.map((p) => p.handle), maxNorm);
}

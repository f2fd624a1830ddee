// The shared optimisation loop of learned attackers: AdamW, linear warm-up + cosine decay,
// gradient clipping, deterministic tensor release, progress callbacks.
import { Tensor, tidy, optim } from '../torch/index.js';
import type { Progress } from './types.js';

export interface TrainOptions {
  attack: string;
  phase: string;
  params: Tensor[];
  steps: number;
  lr: number;
  warmup?: number;
  minLrRatio?: number;
  weightDecay?: number;
  clip?: number;
  /** Builds the loss for step i (called inside tidy; return a scalar tensor). */
  loss: (step: number) => Tensor;
  onProgress?: (p: Progress) => void;
  /** Report every this many steps (and at the last). */
  every?: number;
}

export interface TrainResult {
  steps: number;
  seconds: number;
  /** Mean loss over the last 10% of steps. */
  finalLoss: number;
}

/** Yields to the event loop now and then so long fits stay interruptible. */
const tick = () => new Promise<void>((r) => setImmediate(r));

export async function train(o: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const opt = new optim.AdamW(o.params, { lr: o.lr, weightDecay: o.weightDecay ?? 0.01 });
  const sched = optim.warmupCosine({
    maxLr: o.lr,
    minLr: o.lr * (o.minLrRatio ?? 0.05),
    warmupSteps: o.warmup ?? Math.min(100, Math.ceil(o.steps / 10)),
    totalSteps: o.steps,
  });
  const every = o.every ?? Math.max(1, Math.floor(o.steps / 20));
  const tail: number[] = [];
  const tailN = Math.max(1, Math.floor(o.steps / 10));
  let ema = NaN;
  try {
    for (let s = 0; s < o.steps; s++) {
      opt.lr = sched(s);
      const loss = tidy(() => {
        const l = o.loss(s);
        l.backward();
        return l.item();
      });
      if (!Number.isFinite(loss)) throw new Error(`${o.attack}/${o.phase}: loss became ${loss} at step ${s}`);
      if (o.clip !== 0) optim.clipGradNorm(o.params, o.clip ?? 1);
      opt.step();
      opt.zeroGrad();
      ema = Number.isNaN(ema) ? loss : 0.95 * ema + 0.05 * loss;
      if (s >= o.steps - tailN) tail.push(loss);
      if ((s + 1) % every === 0 || s === o.steps - 1) {
        o.onProgress?.({ attack: o.attack, phase: o.phase, step: s + 1, totalSteps: o.steps, loss: ema, seconds: (performance.now() - t0) / 1000 });
        await tick();
      }
    }
  } finally {
    opt.dispose();
  }
  return { steps: o.steps, seconds: (performance.now() - t0) / 1000, finalLoss: tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length) };
}

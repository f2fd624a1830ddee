// InfoNCE lower bound on I(X; Y) (van den Oord et al. 2018; Poole et al. 2019, "On variational
// bounds of mutual information") with a trained separable critic s(x, y) = f(x) · g(y), f and g
// small MLPs. For a batch of B pairs,
//
//   I_NCE = log B + (1/B) Σ_i [ s(x_i, y_i) − log Σ_j exp s(x_i, y_j) ],
//
// whose expectation is ≤ I(X; Y) for ANY critic, and ≤ log B by construction (the positive pair
// can at best take all the softmax mass). So:
//  - it is a lower bound: the bias is always downward (critic capacity, finite training), and
//  - it saturates at log B: once I(X; Y) approaches log B the bound is loose (expected
//    I_NCE ≈ log B − log(1 + (B − 1) e^{−I}) for an optimal critic); pick B with log B well
//    above the values you want to resolve (B = 128: log B = 4.85 nats).
// The critic is trained on one set of pairs (early-stopped on a validation slice of it, keeping the
// best critic, since a critic that overfits a small set gives a poor — even negative — held-out
// bound) and the bound is averaged over disjoint batches of a held-out set, so the evaluation is an
// unbiased estimate (up to sampling noise) of a valid bound. As I ≥ 0, `bound` = max(0, raw) is
// still a lower bound; `raw` keeps the unclamped value. The training-set value (`trainBound`) is
// optimistic and only reported for diagnosis.
import { Adam } from '../torch/optim/index.js';
import { Linear, Module } from '../torch/nn/index.js';
import { F, keep, noGrad, tidy, type Tensor } from '../torch/index.js';
import { rows } from './sampling.js';
import { permutation } from '../util/prng.js';

export interface InfoNceOptions {
  /** Batch size B (default 128); the bound cannot exceed log B. */
  batchSize?: number;
  /** Width of the critic MLPs' hidden layers (default 128). */
  hidden?: number;
  /** Output width of f and g (default 32). */
  embedDim?: number;
  /** Maximum optimiser steps (default 1000). */
  steps?: number;
  /** Validation every this many steps (default 50); training stops after `patience` checks without improvement. */
  evalEvery?: number;
  /** Default 5. */
  patience?: number;
  /** Share of the training pairs held back for early stopping (default 0.1). */
  validationFraction?: number;
  /** Adam learning rate (default 1e-3). */
  lr?: number;
  /** Seed of the batch order (weights are initialised from libtorch's generator: seed it with manualSeed). */
  seed?: number;
}

export interface InfoNceResult {
  /** Held-out InfoNCE bound in nats, clamped at 0 (≤ logB). */
  bound: number;
  /** The same before clamping (negative: the critic generalises worse than a constant one). */
  raw: number;
  /** Optimiser steps taken (early stopping may end before `steps`). */
  steps: number;
  /** log of the evaluation batch size: the bound's ceiling. */
  logB: number;
  /** Mean bound over the last 50 training batches (optimistic; diagnosis only). */
  trainBound: number;
  /** Number of held-out batches averaged. */
  batches: number;
}

export interface Paired {
  x: Tensor;
  y: Tensor;
}

/** Two-hidden-layer ReLU MLP. */
class Mlp extends Module {
  readonly l1: Linear;
  readonly l2: Linear;
  readonly l3: Linear;
  constructor(inDim: number, hidden: number, out: number) {
    super();
    this.l1 = this.registerModule('l1', new Linear(inDim, hidden));
    this.l2 = this.registerModule('l2', new Linear(hidden, hidden));
    this.l3 = this.registerModule('l3', new Linear(hidden, out));
  }
  forward(x: Tensor): Tensor {
    return this.l3.forward(F.relu(this.l2.forward(F.relu(this.l1.forward(x)))));
  }
}

class SeparableCritic extends Module {
  readonly f: Mlp;
  readonly g: Mlp;
  constructor(dx: number, dy: number, hidden: number, embed: number) {
    super();
    this.f = this.registerModule('f', new Mlp(dx, hidden, embed));
    this.g = this.registerModule('g', new Mlp(dy, hidden, embed));
  }
  /** Per-row InfoNCE terms s(x_i, y_i) − log Σ_j exp s(x_i, y_j): [B]. */
  terms(x: Tensor, y: Tensor): Tensor {
    const fx = this.f.forward(x);
    const gy = this.g.forward(y);
    const scores = fx.mm(gy.T);
    return fx.mul(gy).sum(1).sub(scores.logsumexp(1));
  }
}

/** Standardises columns with the training set's mean and std (an invertible map: MI unchanged). */
function standardiser(t: Tensor): (z: Tensor) => Tensor {
  const mean = t.mean(0, true);
  const std = t.std(0, 1, true).clamp(1e-8, null);
  return (z) => z.sub(mean).div(std);
}

export function infoNceBound(train: Paired, test: Paired, o: InfoNceOptions = {}): InfoNceResult {
  const B = o.batchSize ?? 128;
  const maxSteps = o.steps ?? 1000;
  const evalEvery = o.evalEvery ?? 50;
  const patience = o.patience ?? 5;
  const seed = o.seed ?? 0;
  const nAll = train.x.size(0);
  const nTest = test.x.size(0);
  if (train.y.size(0) !== nAll || test.y.size(0) !== nTest) throw new RangeError('infonce: x and y must have the same number of rows');
  if (nAll < 4 || nTest < 2) throw new RangeError(`infonce: need at least 4 training and 2 held-out pairs, got ${nAll} and ${nTest}`);
  const split = permutation(nAll, seed);
  const nVal = Math.max(2, Math.round(nAll * (o.validationFraction ?? 0.1)));
  const valIdx = split.slice(0, nVal);
  const fitIdx = split.slice(nVal);
  const nFit = fitIdx.length;
  const bTrain = Math.min(B, nFit);

  return tidy(() => {
    const sx = standardiser(train.x.float());
    const sy = standardiser(train.y.float());
    const xAll = noGrad(() => sx(train.x.float()));
    const yAll = noGrad(() => sy(train.y.float()));
    const xtr = rows(xAll, fitIdx);
    const ytr = rows(yAll, fitIdx);
    const val = { x: rows(xAll, valIdx), y: rows(yAll, valIdx) };
    const critic = new SeparableCritic(xtr.size(1), ytr.size(1), o.hidden ?? 128, o.embedDim ?? 32);
    const opt = new Adam(critic.parameters(), { lr: o.lr ?? 1e-3 });
    const tail: number[] = [];
    let best = { value: -Infinity, state: new Map<string, Tensor>() };
    const snapshot = () => noGrad(() => new Map([...critic.stateDict()].map(([k, t]) => [k, keep(t.clone())])));
    let steps = 0;
    try {
      let order = permutation(nFit, seed + 1);
      let pos = 0;
      let stale = 0;
      for (let epoch = 1; steps < maxSteps && stale < patience; ) {
        if (pos + bTrain > nFit) {
          order = permutation(nFit, seed + 1 + epoch++);
          pos = 0;
        }
        const idx = order.subarray(pos, pos + bTrain);
        pos += bTrain;
        const lossValue = tidy(() => {
          const loss = critic.terms(rows(xtr, idx), rows(ytr, idx)).mean().neg();
          opt.zeroGrad();
          loss.backward();
          opt.step();
          return loss.item();
        });
        steps++;
        tail.push(Math.log(bTrain) - lossValue);
        if (tail.length > 50) tail.shift();
        if (steps % evalEvery === 0 || steps === maxSteps) {
          const v = evaluate(critic, val, B, seed ^ 0x2545f491).bound;
          if (v > best.value + 1e-4) {
            for (const t of best.state.values()) t.dispose();
            best = { value: v, state: snapshot() };
            stale = 0;
          } else stale++;
        }
      }
      if (best.state.size) critic.loadStateDict(best.state);
      const r = noGrad(() => tidy(() => evaluate(critic, { x: sx(test.x.float()), y: sy(test.y.float()) }, B, seed ^ 0x5bd1e995)));
      return {
        bound: Math.max(0, r.bound),
        raw: r.bound,
        steps,
        logB: r.logB,
        trainBound: tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : NaN,
        batches: r.batches,
      };
    } finally {
      for (const t of best.state.values()) t.dispose();
      opt.dispose();
      critic.dispose();
    }
  });
}

/** The InfoNCE bound of a critic averaged over disjoint batches of min(B, n) pairs (seeded order). */
function evaluate(critic: SeparableCritic, data: Paired, B: number, seed: number): { bound: number; logB: number; batches: number } {
  const n = data.x.size(0);
  const b = Math.min(B, n);
  const order = permutation(n, seed);
  const batches = Math.max(1, Math.floor(n / b));
  let sum = 0;
  noGrad(() => {
    for (let i = 0; i < batches; i++) {
      const idx = order.subarray(i * b, (i + 1) * b);
      sum += tidy(() => critic.terms(rows(data.x, idx), rows(data.y, idx)).mean().item());
    }
  });
  const logB = Math.log(b);
  return { bound: logB + sum / batches, logB, batches };
}

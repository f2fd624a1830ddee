// Probe bound on the information a representation keeps about the discrete input token X:
//
//   I(X; H) = H(X) − H(X | H) ≥ H(X) − CE(q),   CE(q) = E[−log q(X | H)],
//
// valid for any conditional distribution q over the vocabulary (cross-entropy upper-bounds the
// conditional entropy). q is a linear (or one-hidden-layer MLP) softmax probe trained on the
// fitting tokens; CE is measured on held-out tokens, so it is not optimistically biased by
// overfitting.
//
// Details that keep q a proper distribution over all |V| tokens: the softmax runs over the
// classes seen while fitting, and q is mixed with the uniform distribution,
// q'(x | h) = (1 − α) q(x | h) + α / |V|, so a held-out token never seen in training costs at most
// log(|V| / α) nats instead of infinity. α is chosen on a validation slice of the fitting tokens.
//
// H(X) is the plug-in entropy of the held-out token distribution. The plug-in estimate is biased
// DOWNWARD (by about (K − 1) / 2n nats for K distinct tokens in n samples), which also lowers the
// bound. The result is clamped to [0, H(X)]; overall the bias is downward (probe capacity, finite
// training, plug-in H(X)) — a conservative figure for leakage about X.
import { Adam } from '../torch/optim/index.js';
import { Linear, Module } from '../torch/nn/index.js';
import { F, keep, noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import { pick, rows } from './sampling.js';
import { permutation } from '../util/prng.js';

export interface ProbeOptions {
  /** |V|: the number of values X can take (vocabulary size). */
  vocabSize: number;
  /** Hidden width of an MLP probe; 0 (default) = linear probe. */
  hidden?: number;
  /** Maximum epochs (default 40); training stops early when the validation CE stops improving. */
  epochs?: number;
  /** Epochs without validation improvement before stopping (default 3). */
  patience?: number;
  batchSize?: number;
  /** Adam learning rate (default 5e-3). */
  lr?: number;
  /** Share of the fitting tokens used for early stopping and α (default 0.1). */
  validationFraction?: number;
  /** Seed of the validation split and the batch order (weights: libtorch's generator). */
  seed?: number;
}

export interface ProbeResult {
  /** max(0, H(X) − CE) in nats, never above H(X). */
  bound: number;
  /** Plug-in entropy of the held-out tokens (nats). */
  hX: number;
  /** Held-out cross-entropy of the probe (nats). */
  ce: number;
  /** Distinct tokens the probe's softmax covers. */
  classes: number;
  /** Mixing weight of the uniform distribution. */
  alpha: number;
  epochs: number;
}

export interface Labelled {
  /** [N, D] representations. */
  h: Tensor;
  /** [N] token ids. */
  x: Int32Array;
}

/** Plug-in (maximum-likelihood) entropy of a sample of discrete values, in nats. */
export function pluginEntropy(x: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < x.length; i++) counts.set(x[i]!, (counts.get(x[i]!) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / x.length;
    h -= p * Math.log(p);
  }
  return h;
}

class Probe extends Module {
  readonly layers: Linear[];
  constructor(inDim: number, classes: number, hidden: number) {
    super();
    this.layers = hidden > 0
      ? [this.registerModule('l1', new Linear(inDim, hidden)), this.registerModule('l2', new Linear(hidden, classes))]
      : [this.registerModule('l1', new Linear(inDim, classes))];
  }
  forward(h: Tensor): Tensor {
    let z = this.layers[0]!.forward(h);
    if (this.layers.length > 1) z = this.layers[1]!.forward(F.gelu(z));
    return z;
  }
}

const ALPHAS = [1e-6, 1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.2];

/** Per-token −log q'(x | h) for the given class logits; labels < 0 mark tokens outside the softmax. */
function tokenNll(logits: Tensor, labels: Int32Array, alpha: number, vocab: number): Float64Array {
  const out = new Float64Array(labels.length);
  const logq = noGrad(() =>
    tidy(() => {
      const safe = tensor(labels.map((l) => Math.max(0, l)), [labels.length], { dtype: 'int32' }).long().unsqueeze(1);
      return F.logSoftmax(logits.to('float64'), 1).gather(1, safe).squeeze(1).toNumbers();
    }),
  );
  const floor = alpha / vocab;
  for (let i = 0; i < labels.length; i++) {
    const q = labels[i]! >= 0 ? (1 - alpha) * Math.exp(logq[i]!) : 0;
    out[i] = -Math.log(q + floor);
  }
  return out;
}

const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);

export function probeBound(train: Labelled, test: Labelled, o: ProbeOptions): ProbeResult {
  const vocab = o.vocabSize;
  const seed = o.seed ?? 0;
  const n = train.x.length;
  if (train.h.size(0) !== n || test.h.size(0) !== test.x.length) throw new RangeError('probe: h and x must have the same number of rows');
  if (n < 4 || test.x.length < 1) throw new RangeError(`probe: need at least 4 fitting and 1 held-out token, got ${n} and ${test.x.length}`);

  // Validation slice (early stopping, α) and fitting slice; classes = tokens seen while fitting.
  const order = permutation(n, seed);
  const nVal = Math.max(1, Math.round(n * (o.validationFraction ?? 0.1)));
  const valIdx = order.slice(0, nVal);
  const fitIdx = order.slice(nVal);
  const fitX = pick(train.x, fitIdx);
  const classIds = [...new Set(fitX)].sort((a, b) => a - b);
  const classOf = new Map(classIds.map((t, i) => [t, i]));
  const label = (x: Int32Array) => x.map((t) => classOf.get(t) ?? -1);
  const fitY = label(fitX);
  const valY = label(pick(train.x, valIdx));
  const testY = label(test.x);

  return tidy(() => {
    const hTrain = train.h.float();
    const mu = hTrain.mean(0, true);
    const sd = hTrain.std(0, 1, true).clamp(1e-6, null);
    const norm = (z: Tensor) => z.float().sub(mu).div(sd);
    const hFit = noGrad(() => norm(rows(hTrain, fitIdx)));
    const hVal = noGrad(() => norm(rows(hTrain, valIdx)));
    const yFit = tensor(fitY, [fitY.length], { dtype: 'int32' }).long();

    const probe = new Probe(hFit.size(1), classIds.length, o.hidden ?? 0);
    const opt = new Adam(probe.parameters(), { lr: o.lr ?? 5e-3 });
    const bs = Math.min(o.batchSize ?? 256, fitIdx.length);
    const maxEpochs = o.epochs ?? 40;
    const patience = o.patience ?? 3;
    let best = { ce: Infinity, alpha: ALPHAS[0]!, state: new Map<string, Tensor>() };
    let epochs = 0;
    const valLogits = () => noGrad(() => probe.forward(hVal));
    const bestAlpha = (logits: Tensor) => {
      let r = { ce: Infinity, alpha: ALPHAS[0]! };
      for (const alpha of ALPHAS) {
        const ce = mean(tokenNll(logits, valY, alpha, vocab));
        if (ce < r.ce) r = { ce, alpha };
      }
      return r;
    };
    try {
      let stale = 0;
      for (let epoch = 0; epoch < maxEpochs && stale < patience; epoch++) {
        epochs = epoch + 1;
        const perm = permutation(fitIdx.length, seed + 1 + epoch);
        for (let i = 0; i + bs <= perm.length; i += bs) {
          tidy(() => {
            const idx = perm.subarray(i, i + bs);
            const loss = F.crossEntropy(probe.forward(rows(hFit, idx)), rows(yFit, idx));
            opt.zeroGrad();
            loss.backward();
            opt.step();
          });
        }
        const r = tidy(() => bestAlpha(valLogits()));
        if (r.ce < best.ce - 1e-4) {
          for (const t of best.state.values()) t.dispose();
          const state = noGrad(() => new Map([...probe.stateDict()].map(([k, t]) => [k, keep(t.clone())])));
          best = { ...r, state };
          stale = 0;
        } else stale++;
      }
      if (best.state.size) probe.loadStateDict(best.state);
      const testLogits = noGrad(() => probe.forward(norm(test.h)));
      const ce = mean(tokenNll(testLogits, testY, best.alpha, vocab));
      const hX = pluginEntropy(test.x);
      return { bound: Math.min(hX, Math.max(0, hX - ce)), hX, ce, classes: classIds.length, alpha: best.alpha, epochs };
    } finally {
      for (const t of best.state.values()) t.dispose();
      opt.dispose();
      probe.dispose();
    }
  });
}

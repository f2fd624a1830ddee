// analyzeLeakage: how much input information each block's representation keeps, for every split
// point l = 0..L, in nats.
//
// Sample: token-aligned rows (X, E, H_l) from `collectPairs`, split at random (seeded) into a
// fitting half (PCA bases, critic and probe training) and a held-out half (every estimate).
//  - ksg:     KSG I(E; H_l) on held-out rows, E and H_l each PCA-reduced (fitted on the fitting
//             half) to `components` dims and whitened, with a 1e-5 jitter to break ties.
//  - infonce: InfoNCE lower bound of I(E; H_l), critic on the full standardised vectors.
//  - probe:   H(X) − CE lower bound of I(X; H_l) with a linear probe on the full H_l.
//  - entropy: Kozachenko–Leonenko h(P H_l) of the unwhitened PCA projection, same jitter. Scale
//             dependent. Very negative values flag a (nearly) discrete representation: H_0 =
//             W_E[X] has |V| atoms, whose differential entropy is −∞ — the jitter keeps it finite.
//  - effective_rank, sparsity, kurtosis: of H_l over all rows.
// ksg and infonce estimate I(E; H_l); E = W_E[X] is a function of X, so both are at most H(X)
// when E's rows are distinct (reported as h_x, the plug-in entropy of the held-out tokens).
// Deterministic for a seed: libtorch is re-seeded per (layer, estimator) and shuffles use seeded
// JS generators, so a layer's figures do not depend on which other layers were requested.
import type { CausalLM, TextTokenizer } from '../models/types.js';
import { manualSeed, noGrad, randnLike, tidy, type Tensor } from '../torch/index.js';
import { effectiveRank, excessKurtosis, klEntropy, sparsity, SPARSITY_TAU } from './entropy.js';
import { infoNceBound, type InfoNceOptions } from './infonce.js';
import { ksgMutualInformation } from './ksg.js';
import { collectPairs, type HiddenCapture, type TokenPairs } from './pairs.js';
import { fitPca } from './pca.js';
import { pluginEntropy, probeBound, type ProbeOptions } from './probe.js';
import { deriveSeed, yieldToEventLoop, type ProgressCallback } from './progress.js';
import { pick, rows, splitIndices } from './sampling.js';

export const ESTIMATORS = ['ksg', 'infonce', 'probe', 'entropy', 'effective_rank', 'sparsity', 'kurtosis'] as const;
export type EstimatorName = (typeof ESTIMATORS)[number];
/** The estimators that need token ids / embeddings (a model and texts), not just hidden states. */
export const TOKEN_ESTIMATORS: readonly EstimatorName[] = ['ksg', 'infonce', 'probe'];
export const HIDDEN_ESTIMATORS: readonly EstimatorName[] = ['entropy', 'effective_rank', 'sparsity', 'kurtosis'];

/** One split point's figures; null when that estimator was not requested. */
export interface LayerLeakage {
  layer: number;
  /** KSG estimate of I(E; H_l), nats. */
  ksg: number | null;
  /** InfoNCE lower bound of I(E; H_l), nats (≤ log B). */
  infonce: number | null;
  /** Probe lower bound of I(X; H_l), nats (≤ h_x). */
  probe: number | null;
  /** Differential entropy of the PCA projection of H_l, nats. */
  entropy: number | null;
  effective_rank: number | null;
  /** Fraction of components with |h| < τ · RMS(h), τ = SPARSITY_TAU. */
  sparsity: number | null;
  /** Excess kurtosis of the entries of H_l. */
  kurtosis: number | null;
  /** Share of H_l's variance kept by the PCA that ksg / entropy use (null when neither ran). */
  pca_variance: number | null;
}

/** The figures computable from hidden states alone. */
export type HiddenStats = Pick<LayerLeakage, 'entropy' | 'effective_rank' | 'sparsity' | 'kurtosis' | 'pca_variance'>;

export interface LeakageReport {
  model: string;
  /** Rows (token positions) analysed. */
  tokens: number;
  /** Plug-in entropy of the held-out tokens: the ceiling of the probe (nats). */
  h_x: number;
  /** Share of E's variance kept by its PCA for ksg (null without ksg). */
  pca_variance_e: number | null;
  /** log B of the InfoNCE evaluation batches: the ceiling of the infonce column (null without it). */
  infonce_cap: number | null;
  seed: number;
  layers: LayerLeakage[];
}

export interface AnalyzeOptions {
  /** Split points to analyse (default 0..L). */
  layers?: number[];
  /** Cap on the number of token rows (default 4096). */
  tokens?: number;
  seed?: number;
  estimators?: readonly EstimatorName[];
  /** Name reported as `model` (default: the config's family). */
  name?: string;
  /** PCA components for ksg and entropy (default 16). */
  components?: number;
  /** Neighbour order of ksg and entropy (default 3). */
  k?: number;
  infonce?: Omit<InfoNceOptions, 'seed'>;
  probe?: Omit<ProbeOptions, 'vocabSize' | 'seed'>;
  /** Longest context fed to the model. */
  maxContext?: number;
  onProgress?: ProgressCallback;
}

const JITTER = 1e-5;

function nulls(layer: number): LayerLeakage {
  return { layer, ksg: null, infonce: null, probe: null, entropy: null, effective_rank: null, sparsity: null, kurtosis: null, pca_variance: null };
}

/** x + JITTER · std(x) · noise (libtorch generator: seed it first). */
function jitter(x: Tensor): Tensor {
  return tidy(() => x.add(randnLike(x).mul(x.std().mul(JITTER))));
}

export interface HiddenStatsOptions {
  seed?: number;
  components?: number;
  k?: number;
  estimators?: readonly EstimatorName[];
  /** Rows whose PCA projection `entropy` is evaluated on; the other rows fit the PCA (default: a seeded half). */
  split?: { fit: Int32Array; held: Int32Array };
}

/** entropy, effective rank, sparsity and kurtosis of one set of hidden states [N, D]. */
export function hiddenStats(h: Tensor, o: HiddenStatsOptions = {}): HiddenStats {
  const want = new Set(o.estimators ?? HIDDEN_ESTIMATORS);
  const seed = o.seed ?? 0;
  const out: HiddenStats = { entropy: null, effective_rank: null, sparsity: null, kurtosis: null, pca_variance: null };
  return noGrad(() =>
    tidy(() => {
      if (want.has('entropy')) {
        manualSeed(deriveSeed(seed, 2));
        const split = o.split ?? splitIndices(h.size(0), deriveSeed(seed, 1));
        const pca = fitPca(rows(h, split.fit), { components: o.components ?? 16 });
        try {
          const z = jitter(pca.transform(rows(h, split.held)));
          out.entropy = z.size(0) > (o.k ?? 3) ? klEntropy(z, { k: o.k ?? 3 }) : null;
          out.pca_variance = pca.keptVarianceRatio;
        } finally {
          pca.dispose();
        }
      }
      if (want.has('effective_rank')) out.effective_rank = effectiveRank(h);
      if (want.has('sparsity')) out.sparsity = sparsity(h, SPARSITY_TAU);
      if (want.has('kurtosis')) out.kurtosis = excessKurtosis(h);
      return out;
    }),
  );
}

/** Per-layer leakage figures for a model over a set of texts. */
export async function analyzeLeakage(model: CausalLM, tokenizer: TextTokenizer, texts: readonly string[], o: AnalyzeOptions = {}): Promise<LeakageReport> {
  const seed = o.seed ?? 0;
  const L = model.config.nLayers;
  const layers = o.layers ?? Array.from({ length: L + 1 }, (_, i) => i);
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l > L) throw new RangeError(`layer ${l} out of range: this model has split points 0..${L}`);
  }
  const estimators = ESTIMATORS.filter((e) => (o.estimators ?? ESTIMATORS).includes(e));
  const maxTokens = o.tokens ?? 4096;
  manualSeed(deriveSeed(seed, 0));
  const pairs = await collectPairs(model, tokenizer, texts, {
    maxTokens,
    maxContext: o.maxContext,
    seed: deriveSeed(seed, 2),
    onText: async (n) => {
      o.onProgress?.({ stage: 'tokens', done: n, total: maxTokens });
      await yieldToEventLoop();
    },
  });
  try {
    return await analyzePairs(pairs, { ...o, seed, layers, estimators, name: o.name ?? model.config.family });
  } finally {
    pairs.dispose();
  }
}

/** The estimation part of analyzeLeakage, on already collected rows. */
export async function analyzePairs(
  pairs: TokenPairs,
  o: AnalyzeOptions & { layers: number[]; estimators: readonly EstimatorName[]; name: string; seed: number },
): Promise<LeakageReport> {
  const n = pairs.tokenIds.length;
  if (n < 8) throw new RangeError(`need at least 8 token rows to split into fitting and held-out halves, got ${n}`);
  const { seed, layers, estimators } = o;
  const k = o.k ?? 3;
  const components = o.components ?? 16;
  const split = splitIndices(n, deriveSeed(seed, 3));
  const xFit = pick(pairs.tokenIds, split.fit);
  const xHeld = pick(pairs.tokenIds, split.held);
  const total = layers.length * estimators.length;
  let done = 0;
  let infonceCap: number | null = null;
  // Reported before each estimator (what is running) and after it (done + 1).
  const step = async (layer: number, estimator: EstimatorName, finished: boolean) => {
    if (finished) done++;
    o.onProgress?.({ stage: 'estimate', done, total, layer, estimator });
    await yieldToEventLoop();
  };
  const withSeed = <T>(layer: number, e: EstimatorName, fn: () => T): T => {
    manualSeed(deriveSeed(seed, 10 + layer, ESTIMATORS.indexOf(e)));
    return fn();
  };

  const eFit = rows(pairs.embeddings, split.fit);
  const eHeld = rows(pairs.embeddings, split.held);
  // E's PCA is shared by every layer.
  const ePca = estimators.includes('ksg') ? fitPca(eFit, { components }) : null;
  const out: LayerLeakage[] = [];
  try {
    for (const layer of layers) {
      const r = nulls(layer);
      const h = pairs.hidden[layer]!;
      const hFit = rows(h, split.fit);
      const hHeld = rows(h, split.held);
      try {
        for (const e of estimators) {
          await step(layer, e, false);
          switch (e) {
            case 'ksg':
              r.ksg = withSeed(layer, e, () =>
                tidy(() => {
                  const hPca = fitPca(hFit, { components });
                  try {
                    const ez = jitter(ePca!.transform(eHeld, { whiten: true }));
                    const hz = jitter(hPca.transform(hHeld, { whiten: true }));
                    r.pca_variance = hPca.keptVarianceRatio;
                    return ksgMutualInformation(ez, hz, { k }).mi;
                  } finally {
                    hPca.dispose();
                  }
                }),
              );
              break;
            case 'infonce':
              r.infonce = withSeed(layer, e, () => {
                const res = infoNceBound({ x: eFit, y: hFit }, { x: eHeld, y: hHeld }, { ...o.infonce, seed: deriveSeed(seed, 20 + layer) });
                infonceCap = res.logB;
                return res.bound;
              });
              break;
            case 'probe':
              r.probe = withSeed(layer, e, () =>
                probeBound({ h: hFit, x: xFit }, { h: hHeld, x: xHeld }, { ...o.probe, vocabSize: pairs.vocabSize, seed: deriveSeed(seed, 30 + layer) }).bound,
              );
              break;
            default:
              Object.assign(r, pickDefined(withSeed(layer, e, () => hiddenStats(h, { seed: deriveSeed(seed, 40 + layer), components, k, estimators: [e], split }))));
          }
          await step(layer, e, true);
        }
      } finally {
        hFit.dispose();
        hHeld.dispose();
      }
      out.push(r);
    }
  } finally {
    ePca?.dispose();
    eFit.dispose();
    eHeld.dispose();
  }
  return { model: o.name, tokens: n, h_x: pluginEntropy(xHeld), pca_variance_e: ePca?.keptVarianceRatio ?? null, infonce_cap: infonceCap, seed, layers: out };
}

function pickDefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)) as Partial<T>;
}

export interface CaptureAnalysis {
  split_point: number;
  /** Rows in the capture. */
  tokens: number;
  /** Statistics of the captured hidden states themselves. */
  hidden: HiddenStats;
  /**
   * With an attacker model: the token-based figures (ksg, infonce, probe) of the attacker's own
   * copy of the model at the capture's split point, on the attacker's texts — what the attacker
   * can learn to extract at that cut. Never computed from the capture (it has no token ids).
   */
  attacker: LeakageReport | null;
}

export interface CaptureOptions extends HiddenStatsOptions {
  attacker?: { model: CausalLM; tokenizer: TextTokenizer; texts: readonly string[]; options?: Omit<AnalyzeOptions, 'layers'> };
}

/** H-only statistics of a server capture, plus (optionally) the attacker-model figures at its split point. */
export async function analyzeCapture(capture: HiddenCapture, o: CaptureOptions = {}): Promise<CaptureAnalysis> {
  if (capture.hidden.ndim !== 2) throw new RangeError(`capture.hidden must be [N, D], got [${capture.hidden.shape}]`);
  const seed = o.seed ?? 0;
  manualSeed(deriveSeed(seed, 50));
  const hidden = hiddenStats(capture.hidden, { ...o, estimators: (o.estimators ?? HIDDEN_ESTIMATORS).filter((e) => HIDDEN_ESTIMATORS.includes(e)) });
  let attacker: LeakageReport | null = null;
  if (o.attacker) {
    const a = o.attacker;
    attacker = await analyzeLeakage(a.model, a.tokenizer, a.texts, {
      seed,
      estimators: TOKEN_ESTIMATORS,
      ...a.options,
      layers: [capture.splitPoint],
    });
  }
  return { split_point: capture.splitPoint, tokens: capture.hidden.size(0), hidden, attacker };
}

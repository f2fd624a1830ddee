// Adapter estimation's settings: the adapter shapes it fits and how (rounds, steps, confidence,
// the sample of windows), and the shapes tried when the protocol announces none.
import type { InterceptSource } from '../types.js';

/** One LoRA shape: what split fine-tuning announces (rank, targets; alpha only scales the fit). */
export interface AdapterSpec {
  rank: number;
  alpha?: number;
  targets: readonly string[];
  /**
   * Also fit the norms' gains and the token embedding rows (a device that fine-tuned every weight
   * changes those too; only rows of tokens in the reconstructions move).
   */
  extras?: boolean;
}

export interface EstimationOptions {
  /** Candidate adapter shapes; one = the protocol's announced shape, several = a search in round 1. */
  specs: readonly AdapterSpec[];
  /** Alternations of (invert, fit). */
  rounds: number;
  /**
   * More rounds, up to `maxRounds`, while the alternation has not settled: while a refit still
   * changes more than `settleBelow` of the sample's tokens, another refit on the sample comes before
   * the last fit. Easy captures settle within `rounds` (stories260K's TinyStories at k = 4: 1.4–2.2 %
   * changed after the second fit); a device that drifted far (code, arithmetic) keeps changing 5–10 %
   * a round, and each further round gets more of its windows right (src/attacks/README.md, "Rounds").
   */
  maxRounds: number;
  settleBelow: number;
  /** Adam steps of the first fit, of each later (warm-started) one, and of the last (on the best reconstructions). */
  steps: number;
  refineSteps: number;
  finalSteps: number;
  /**
   * The last fit starts again from the pretrained part (B = 0) instead of going on from the rounds'
   * estimate: the rounds' job is to get the reconstructions right, and an estimate carried through
   * them keeps what it learned from their early, wronger reconstructions and from a sample of the
   * windows. Fresh, it needs more steps (finalSteps 400, not 200) and ends nearer the victim's part
   * (src/attacks/README.md, "The last fit").
   */
  freshLast: boolean;
  lr: number;
  /** Windows per fitting step. */
  windows: number;
  /** A position is confident when its mismatch is at most this × the median mismatch. */
  confidence: number;
  /**
   * Skip estimation when the `cleanQuantile` quantile of the positions' mismatch with the known part
   * is at most `cleanBelow` (undrifted traffic). A low quantile, not the median: with the device's
   * exact weights every right token after a right prefix re-encodes to its observed state, however
   * many other positions a weak first inversion got wrong (deep splits), while a drifted device
   * leaves a mismatch at every position, right tokens included.
   */
  cleanBelow: number;
  cleanQuantile: number;
  /** Weight of relative squared L2 next to (1 - cosine), as in re-encoding. */
  l2Weight: number;
  /**
   * Windows the rounds invert and fit on, evenly spaced over the capture (0 = every window). The
   * adapters are the device's, shared by all its windows, so a sample estimates them as well as the
   * whole capture while the cost of estimating stops growing with the capture: only the final
   * inversion, with the estimate, covers every window.
   */
  sampleWindows: number;
  /**
   * The sample grows past `sampleWindows` until it holds at least this many observed values
   * (real positions × model width) per parameter the widest candidate shape fits: a sample sized
   * for rank-8 adapters on q,v lets adapters on every projection (five times the parameters) fit
   * the sampled windows and miss the rest (sampleSize).
   */
  samplePerParameter: number;
  seed: number;
}

export const ESTIMATION_DEFAULTS: EstimationOptions = {
  specs: [{ rank: 8, targets: ['q', 'v'] }],
  rounds: 4,
  maxRounds: 8,
  settleBelow: 0.03,
  steps: 150,
  refineSteps: 100,
  finalSteps: 400,
  freshLast: true,
  lr: 1e-2,
  windows: 16,
  confidence: 2,
  cleanBelow: 2e-3,
  cleanQuantile: 0.1,
  l2Weight: 1,
  sampleWindows: 24,
  samplePerParameter: 6,
  seed: 0,
};

/** Adapter shapes tried when the protocol announces none (split fine-tuning's usual choices). */
export const ADAPTER_SEARCH: readonly AdapterSpec[] = [
  { rank: 8, targets: ['q', 'v'] },
  { rank: 8, targets: ['q', 'k', 'v', 'o'] },
  { rank: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] },
  { rank: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], extras: true },
];

/** An attack's estimation options: the shapes the captured session announced, else its own, else the search. */
export function estimationOptions(o: Partial<EstimationOptions>, source: InterceptSource): Partial<EstimationOptions> {
  return { ...o, specs: source.announcedAdapters ?? o.specs ?? ADAPTER_SEARCH };
}

// The audit's results: everything the HTML report shows, and what results.json holds.
import type { LayerLeakage } from '../leakage/analyze.js';
import type { AttackerScore, TradeoffLevelResult } from '../experiments/tradeoff.js';

/** A leakage row as results.json holds it (files from before kurtosis and pca_variance lack them). */
export type LeakageLayer = Omit<LayerLeakage, 'kurtosis' | 'pca_variance'> & Partial<Pick<LayerLeakage, 'kurtosis' | 'pca_variance'>>;

/** PII spans of the scored windows, and how many the reconstructions contain. */
export interface PiiCount {
  recovered: number;
  total: number;
}

export interface AttackScore {
  rougeL: number;
  bleu: number;
  token_acc: number;
  /** Fraction of windows recovered token for token. */
  exact_windows: number;
  pii: number | null;
  /** The spans behind `pii` (pooled over the scored windows). */
  pii_spans?: PiiCount;
  rouge1?: number;
  rouge2?: number;
  token_f1?: number;
  exact_match?: number;
  /** The attack's estimate of the victim's device part (adapter estimation), as the sweep reports it. */
  adaptation?: { rounds: number; seconds: number; drift_left: number | null };
}

export interface AttackBudget {
  examples: number;
  steps: number;
  parameters: number;
  /** Training time (an attacker shared between scenarios trained once). */
  seconds: number;
  /** Time to invert the scenario's captured windows. */
  invert_seconds?: number;
}

export interface SplitResult {
  split: number;
  /** ‖H_victim − H_pretrained‖ / ‖H_pretrained‖ on the scored windows. */
  drift: number;
  attacks: Record<string, AttackScore>;
  budgets?: Record<string, AttackBudget>;
  /** Attacks that cannot run on what the attacker knows, with the reason. */
  not_applicable?: Record<string, string>;
}

/** A scenario as results report it (see src/experiments/scenario.ts). */
export interface ScenarioInfo {
  name: string;
  description: string;
  settings: Record<string, unknown>;
}

export interface ScenarioResult {
  scenario: ScenarioInfo;
  /** How the scored windows were chosen. */
  victim: { segments: number; of: number; method: string; seed: number; maxTokens: number; chance_rougeL?: number | null; near_copy_share?: number };
  splits: SplitResult[];
}

export interface Example {
  scenario: string;
  split: number;
  attack: string;
  original: string;
  reconstruction: string;
  /** Index of the window in the scored sample (the same windows are shown for every attack). */
  window?: number;
  /** Why the window was shown: it holds PII, or it is among the longest. */
  chosen?: 'pii' | 'longest';
  /** PII spans of the original, and how many this reconstruction contains. */
  pii_spans?: PiiCount;
}

export type { AttackerScore };
export type TradeoffLevel = TradeoffLevelResult;

export interface TradeoffResult {
  defense: string;
  split: number;
  /** ROUGE-L of recovering nothing (each scored window against another one). */
  chance_rougeL?: number | null;
  scenario: ScenarioInfo;
  levels: TradeoffLevel[];
}

export interface AuditResults {
  version: 1;
  created: string;
  config: Record<string, unknown>;
  setup: {
    model: string;
    family: string;
    layers: number;
    dModel: number;
    vocab: number;
    parameters: number;
    splits: number[];
    auxSamples: number;
    victimSamples: number;
    auxSource: string;
    victimSource: string;
  };
  /** h_x: plug-in entropy of the tokens (nats), the ceiling of the probe estimate. */
  leakage: { tokens: number; h_x?: number; layers: LeakageLayer[] } | null;
  /** Every attack at every split point, per scenario (side by side). */
  attacks: { scenarios: ScenarioResult[] } | null;
  examples: Example[];
  tradeoffs: TradeoffResult[];
  /** The verdict and the recommendation the report leads with (src/report/summary.ts). */
  summary?: AuditSummary;
  /** Seconds per part of the run. */
  timings: Record<string, number>;
  /**
   * Attack results kept from an interrupted run of the same audit (`--resume`): their scores and
   * seconds are that run's; `timings` covers only this one.
   */
  resumed?: number;
}

export type Rating = 'red' | 'amber' | 'green';

/**
 * When text counts as protected (green): the strongest attack stays below `rougeL` and recovers at
 * most `pii` of the PII spans. Red: it reaches `red.rougeL` or `red.pii`. Amber: in between.
 */
export interface Thresholds {
  rougeL: number;
  pii: number;
  red: { rougeL: number; pii: number };
}

/** What the strongest attack recovers at one split point in one scenario. */
export interface VerdictRow {
  scenario: string;
  split: number;
  /** The strongest attack there (highest ROUGE-L; ties: more windows recovered exactly). */
  attack: string;
  rougeL: number;
  /** Share of words recovered in place. */
  token_acc: number;
  exact_windows: number;
  pii: number | null;
  pii_spans: PiiCount | null;
  rating: Rating;
}

export interface Verdict {
  /** The worst rating of any row. */
  rating: Rating;
  rows: VerdictRow[];
  /** Indices into `examples` of the two shown with the verdict. */
  examples: number[];
}

/** One configuration of a trade-off: a defense level at a split point, and what the strongest attacker recovers. */
export interface DefendedConfig {
  /** Index into `tradeoffs` and into its `levels`. */
  tradeoff: number;
  level_index: number;
  defense: string;
  split: number;
  scenario: string;
  level: number;
  /** The strongest attacker at this level (highest ROUGE-L over the attacks, naive and adaptive). */
  attack: string;
  attacker: 'naive' | 'adaptive';
  rougeL: number;
  /** The highest PII recovery of any attacker (null: the windows hold no PII spans). */
  pii: number | null;
  perplexity: number;
  /** Perplexity over the perplexity without defense (level 0 of the same curve); null without level 0. */
  perplexity_ratio: number | null;
  protects: boolean;
}

export interface Recommendation {
  /** Every configuration tried, in trade-off and level order. */
  configs: DefendedConfig[];
  /** Indices into `configs` of those that protect, cheapest utility cost first. */
  protecting: number[];
  /** What to try next when none protects (or none was tried). */
  next: string[];
}

export interface AuditSummary {
  thresholds: Thresholds;
  verdict: Verdict;
  recommendation: Recommendation;
}

// The audit's results: everything the HTML report shows, and what results.json holds.

export interface LeakageLayer {
  layer: number;
  ksg: number | null;
  infonce: number | null;
  probe: number | null;
  entropy: number | null;
  effective_rank: number | null;
  sparsity: number | null;
  kurtosis?: number | null;
}

export interface AttackScore {
  rougeL: number;
  bleu: number;
  token_acc: number;
  /** Fraction of windows recovered token for token. */
  exact_windows: number;
  pii: number | null;
  rouge1?: number;
  rouge2?: number;
  token_f1?: number;
  exact_match?: number;
}

export interface AttackBudget {
  examples: number;
  steps: number;
  parameters: number;
  seconds: number;
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
  victim: { segments: number; of: number; method: string; seed: number; maxTokens: number };
  splits: SplitResult[];
}

export interface Example {
  scenario: string;
  split: number;
  attack: string;
  original: string;
  reconstruction: string;
}

export interface AttackerScore {
  rougeL: number;
  exact_windows: number;
  pii: number | null;
}

export interface TradeoffLevel {
  level: number;
  perplexity: number;
  epsilon: number | null;
  drift: number;
  attacks: Record<string, { naive: AttackerScore; adaptive: AttackerScore }>;
}

export interface TradeoffResult {
  defense: string;
  split: number;
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
  leakage: { tokens: number; layers: LeakageLayer[] } | null;
  /** Every attack at every split point, per scenario (side by side). */
  attacks: { scenarios: ScenarioResult[] } | null;
  examples: Example[];
  tradeoffs: TradeoffResult[];
  /** Seconds per part of the run. */
  timings: Record<string, number>;
}

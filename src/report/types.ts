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
  attacks: Record<string, AttackScore>;
  budgets?: Record<string, AttackBudget>;
}

export interface Example {
  split: number;
  attack: string;
  original: string;
  reconstruction: string;
}

export interface TradeoffLevel {
  level: number;
  perplexity: number;
  epsilon: number | null;
  attacks: Record<string, { naive: { rougeL: number; pii: number | null }; adaptive: { rougeL: number; pii: number | null } }>;
}

export interface TradeoffResult {
  defense: string;
  split: number;
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
    /** How the scored victim segments were chosen. */
    sampling?: { segments: number; of: number; method: string; seed: number; maxTokens: number };
  };
  leakage: { tokens: number; layers: LeakageLayer[] } | null;
  attacks: { splits: SplitResult[] } | null;
  examples: Example[];
  tradeoffs: TradeoffResult[];
  /** Seconds per part of the run. */
  timings: Record<string, number>;
}

// Running attacks end to end: fit on auxiliary text, capture the victim's traffic (simulated),
// invert, score against the victim text the evaluator — not the attack — holds.
import { tidy, keep, noGrad } from '../torch/index.js';
import type { DevicePart, CausalLM, TextTokenizer } from '../models/types.js';
import { scoreAll, type ScoreSummary } from '../metrics/index.js';
import type { Attack, Budget, BudgetSpec, InterceptedBatch, Progress, ServerKnowledge } from './types.js';
import { ATTACKS, assertRunsOnActivations, createAttack, type AttackName, type AttackConfig } from './registry.js';
import { simulateCapture, victimSegments } from './capture.js';
import { padBatch } from './data.js';
import { tokenizerAddsBos } from './common.js';
import type { OracleBatch } from './revertlm/index.js';

export interface AttackScores {
  rougeL: number;
  rouge1: number;
  rouge2: number;
  bleu: number;
  token_acc: number;
  exact_match: number;
  pii: number | null;
  budget: Budget;
  /** Seconds spent inverting the whole victim capture. */
  invertSeconds: number;
}

export interface RunAttackOptions<N extends AttackName = AttackName> {
  attack: N;
  config?: AttackConfig<N>;
  /** The device part at split k (architecture + pretrained weights). */
  device: DevicePart;
  tokenizer: TextTokenizer;
  /** The pretrained full model (language prior for RevertLM). */
  lm?: CausalLM;
  auxTexts: readonly string[];
  /** Victim segments (already capture-sized, see victimSegments); used only to capture and to score. */
  victimTexts: readonly string[];
  budget?: Partial<BudgetSpec>;
  seed?: number;
  /** Tokens per captured sequence (BOS included). */
  maxTokens?: number;
  onProgress?: (p: Progress) => void;
  /** Keep the fitted attack (caller disposes it) instead of disposing it. */
  keepAttack?: boolean;
  /** Number of (reference, reconstruction) examples to return. */
  examples?: number;
}

export interface RunAttackResult {
  split: number;
  attack: string;
  scores: AttackScores;
  examples: { reference: string; reconstruction: string }[];
  fitted?: Attack;
}

/** Fits one attack on auxiliary text and scores it on the victim's (simulated) traffic. */
export async function runAttack<N extends AttackName>(o: RunAttackOptions<N>): Promise<RunAttackResult> {
  const knowledge: ServerKnowledge = { device: o.device, tokenizer: o.tokenizer, lm: o.lm };
  assertRunsOnActivations(o.attack);
  const entry = ATTACKS[o.attack];
  const attack = createAttack(o.attack, knowledge, o.config);
  try {
    const maxTokens = o.maxTokens ?? o.budget?.maxTokens ?? 32;
    const budget = await attack.fit({ texts: o.auxTexts }, { budget: { maxTokens, ...o.budget }, seed: o.seed ?? 0, onProgress: o.onProgress });
    const capture = simulateCapture(o.device, o.tokenizer, o.victimTexts, { maxTokens });
    const hyps: string[] = [];
    const t0 = performance.now();
    try {
      let offset = 0;
      for (const batch of capture.batches(32)) {
        const B = batch.hidden.size(0);
        if (entry.oracle) {
          const ob = oracleBatch(batch, o.tokenizer, o.victimTexts.slice(offset, offset + B), maxTokens);
          try {
            hyps.push(...attack.invert(ob).texts);
          } finally {
            ob.oracleIds.dispose();
          }
        } else hyps.push(...attack.invert(batch).texts);
        offset += B;
      }
    } finally {
      capture.dispose();
    }
    const invertSeconds = (performance.now() - t0) / 1000;
    const s: ScoreSummary = scoreAll(o.victimTexts, hyps);
    const result: RunAttackResult = {
      split: o.device.splitPoint,
      attack: o.attack,
      scores: { rougeL: s.rougeL, rouge1: s.rouge1, rouge2: s.rouge2, bleu: s.bleu, token_acc: s.token_acc, exact_match: s.exact_match, pii: s.pii, budget, invertSeconds },
      examples: o.victimTexts.slice(0, o.examples ?? 3).map((reference, i) => ({ reference, reconstruction: hyps[i]! })),
    };
    if (o.keepAttack) result.fitted = attack;
    return result;
  } finally {
    if (!o.keepAttack) attack.dispose();
  }
}

/** The oracle upper bound sees the victim's token ids: built here, by the evaluator, never by a capture. */
function oracleBatch(batch: InterceptedBatch, tok: TextTokenizer, texts: readonly string[], maxTokens: number): OracleBatch {
  const T = batch.hidden.size(1);
  const seqs = texts.map((t) => tok.encode(t, { addBos: tokenizerAddsBos(tok), addEos: false }).slice(0, maxTokens));
  const ids = keep(noGrad(() => tidy(() => padBatch(seqs, tok.padTokenId ?? 0, T).ids)));
  return { hidden: batch.hidden, attentionMask: batch.attentionMask, splitPoint: batch.splitPoint, oracleIds: ids };
}

export interface SweepOptions {
  splits: number[];
  attacks: AttackName[];
  /** Device part at split k; called once per split. */
  devicePart: (k: number) => DevicePart;
  tokenizer: TextTokenizer;
  lm?: CausalLM;
  auxTexts: readonly string[];
  /** Raw victim texts; cut into capture-sized segments here. */
  victimTexts: readonly string[];
  budget?: Partial<BudgetSpec>;
  /** Per-attack budget overrides (e.g. a larger one for a baseline). */
  budgets?: Partial<Record<AttackName, Partial<BudgetSpec>>>;
  configs?: { [N in AttackName]?: AttackConfig<N> };
  seed?: number;
  maxTokens?: number;
  onProgress?: (p: Progress & { split: number }) => void;
  onResult?: (r: RunAttackResult) => void;
}

export interface SweepResult {
  splits: { split: number; attacks: Record<string, Omit<AttackScores, 'budget'> & { budget: Budget }> }[];
  victim: { segments: number; maxTokens: number };
  aux: { texts: number };
}

/** Every attack at every split, in the JSON shape the CLI reports. */
export async function attackSweep(o: SweepOptions): Promise<SweepResult> {
  // Refuse before any attack trains.
  o.attacks.forEach(assertRunsOnActivations);
  const maxTokens = o.maxTokens ?? o.budget?.maxTokens ?? 32;
  const segments = victimSegments(o.victimTexts, o.tokenizer, { maxTokens });
  const out: SweepResult = { splits: [], victim: { segments: segments.length, maxTokens }, aux: { texts: o.auxTexts.length } };
  for (const k of o.splits) {
    const device = o.devicePart(k);
    const row: SweepResult['splits'][number] = { split: k, attacks: {} };
    for (const name of o.attacks) {
      const r = await runAttack({
        attack: name, config: o.configs?.[name] as AttackConfig<typeof name> | undefined, device, tokenizer: o.tokenizer, lm: o.lm,
        auxTexts: o.auxTexts, victimTexts: segments, budget: { ...o.budget, ...o.budgets?.[name] }, seed: o.seed, maxTokens,
        onProgress: o.onProgress ? (p) => o.onProgress!({ ...p, split: k }) : undefined,
      });
      row.attacks[name] = r.scores;
      o.onResult?.(r);
    }
    out.splits.push(row);
  }
  return out;
}

// One attack end to end: train it on the auxiliary text, capture the victim's traffic, invert,
// and score against the victim text the evaluator — not the attack — holds.
import { tidy, keep, noGrad } from '../torch/index.js';
import type { DevicePart } from '../models/types.js';
import { scoreAll } from '../metrics/index.js';
import {
  ATTACKS, assertRunsOnActivations, createAttack,
  type Attack, type AttackConfig, type AttackName, type Budget, type BudgetSpec, type InterceptSource, type InterceptedBatch, type OracleBatch, type ServerKnowledge,
} from '../attacks/index.js';
import { padBatch } from '../data/windows.js';
import type { ExperimentContext } from './context.js';
import { segmentIds, simulateCapture } from './capture.js';
import { silent, type ProgressSink } from './progress.js';

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

export interface TrainAttackOptions<N extends AttackName> {
  attack: N;
  splitPoint: number;
  config?: AttackConfig<N>;
  /** Overrides of the context's budget for this attack. */
  budget?: Partial<BudgetSpec>;
  /** Overrides of the server's knowledge (an adaptive attacker's simulated defense). */
  knowledge?: Partial<ServerKnowledge>;
  progress?: ProgressSink;
}

/** Creates one attack on what the server knows at the split point and trains it on the auxiliary text. */
export async function trainAttack<N extends AttackName>(ctx: ExperimentContext, o: TrainAttackOptions<N>): Promise<Attack> {
  const knowledge = { ...ctx.knowledge(o.splitPoint), ...o.knowledge };
  const attack = createAttack(o.attack, knowledge, o.config);
  try {
    const progress = o.progress ?? silent;
    const aux = ATTACKS[o.attack].trains ? ctx.requireAux() : (ctx.aux ?? { texts: [], source: 'none' });
    await attack.fit({ texts: aux.texts, source: aux.source }, {
      budget: { ...ctx.budget, ...o.budget }, seed: ctx.seed,
      onProgress: (p) => progress({ part: `${o.attack} k=${o.splitPoint}`, fraction: p.step / Math.max(1, p.totalSteps), detail: `${p.phase} loss ${p.loss.toFixed(3)}` }),
    });
    return attack;
  } catch (e) {
    attack.dispose();
    throw e;
  }
}

/** Inverts every batch of a source, in order. */
export function invertSource(attack: Attack, source: InterceptSource, batchSize = 32): string[] {
  const hyps: string[] = [];
  for (const b of source.batches(batchSize)) hyps.push(...attack.invert(b).texts);
  return hyps;
}

export interface RunAttackOptions<N extends AttackName = AttackName> extends TrainAttackOptions<N> {
  /** What produces the victim's traffic (default: the pretrained device part; e.g. a defended device). */
  victimDevice?: DevicePart;
  /** Keep the fitted attack (the caller disposes it) instead of disposing it. */
  keepAttack?: boolean;
  /** Number of (reference, reconstruction) examples to return. */
  examples?: number;
}

export interface RunAttackResult {
  split: number;
  attack: string;
  scores: AttackScores;
  /** Every scored pair, in the order of the victim's segments. */
  references: string[];
  reconstructions: string[];
  examples: { reference: string; reconstruction: string }[];
  fitted?: Attack;
}

/** Trains one attack and scores it on the victim's (simulated) traffic. */
export async function runAttack<N extends AttackName>(ctx: ExperimentContext, o: RunAttackOptions<N>): Promise<RunAttackResult> {
  assertRunsOnActivations(o.attack);
  const victim = ctx.requireVictim();
  const attack = await trainAttack(ctx, o);
  try {
    const segments = victim.segments;
    const device = o.victimDevice ?? ctx.parts(o.splitPoint).device;
    const capture = simulateCapture(device, ctx.tokenizer, segments, { addBos: ctx.addBos, maxTokens: ctx.maxTokens });
    const t0 = performance.now();
    let hyps: string[];
    try {
      hyps = ATTACKS[o.attack].oracle ? invertOracle(ctx, attack, capture, segments) : invertSource(attack, capture);
    } finally {
      capture.dispose();
    }
    const invertSeconds = (performance.now() - t0) / 1000;
    const s = scoreAll(segments, hyps);
    const result: RunAttackResult = {
      split: o.splitPoint,
      attack: o.attack,
      scores: { rougeL: s.rougeL, rouge1: s.rouge1, rouge2: s.rouge2, bleu: s.bleu, token_acc: s.token_acc, exact_match: s.exact_match, pii: s.pii, budget: attack.budget(), invertSeconds },
      references: segments.slice(),
      reconstructions: hyps,
      examples: segments.slice(0, o.examples ?? 3).map((reference, i) => ({ reference, reconstruction: hyps[i]! })),
    };
    if (o.keepAttack) result.fitted = attack;
    return result;
  } finally {
    if (!o.keepAttack) attack.dispose();
  }
}

/** The oracle upper bound sees the victim's token ids: built here, by the evaluator, never by a capture. */
function invertOracle(ctx: ExperimentContext, attack: Attack, capture: InterceptSource, segments: readonly string[]): string[] {
  const hyps: string[] = [];
  let offset = 0;
  for (const batch of capture.batches(32)) {
    const B = batch.hidden.size(0);
    const ob = oracleBatch(batch, segmentIds(ctx.tokenizer, segments.slice(offset, offset + B), { addBos: ctx.addBos, maxTokens: ctx.maxTokens }), ctx.tokenizer.padTokenId ?? 0);
    try {
      hyps.push(...attack.invert(ob).texts);
    } finally {
      ob.oracleIds.dispose();
    }
    offset += B;
  }
  return hyps;
}

function oracleBatch(batch: InterceptedBatch, seqs: number[][], padId: number): OracleBatch {
  const T = batch.hidden.size(1);
  const ids = keep(noGrad(() => tidy(() => padBatch(seqs, padId, T).ids)));
  return { hidden: batch.hidden, attentionMask: batch.attentionMask, splitPoint: batch.splitPoint, oracleIds: ids };
}

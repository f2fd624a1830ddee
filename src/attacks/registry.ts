// The typed registry of attacks: name → factory. Factories receive only the server's knowledge
// (device part, tokenizer, pretrained model) and a config, never victim data.
import type { Attack, ServerKnowledge } from './types.js';
import { SipAttack, type SipConfig } from './sip.js';
import { NearestAttack } from './nearest.js';
import { BisrAttack, OptimizeAttack, type BisrConfigInput, type OptimizeConfig } from './optimize.js';
import { RevertLMAttack, type RevertConfigInput } from './revertlm/index.js';
import { GradientAttack, type GradientConfig } from './gradient.js';

export interface AttackEntry<C> {
  description: string;
  /** Needs the pretrained full model (knowledge.lm). */
  needsLm: boolean;
  /** Not an attack: an upper bound that must be given the victim's true tokens (OracleBatch). */
  oracle: boolean;
  /** Reads U-shape fine-tuning traffic (InterceptedBatch.gradients): runs on real captures only. */
  needsFinetune?: boolean;
  /** Trains on auxiliary text in fit() (false: fit() is a no-op and no auxiliary text is needed). */
  trains: boolean;
  /**
   * Needs only the architecture (it learns from activations of any device of that architecture and
   * never reads the victim's weights at inversion): runs when the attacker has no weights.
   */
  architectureOnly?: boolean;
  /** Fits an estimate of a personalized device part from the traffic (adapter estimation) and returns it from deviceEstimate(). */
  estimatesDevice?: boolean;
  create(knowledge: ServerKnowledge, config?: C): Attack;
}

const entry = <C>(e: AttackEntry<C>): AttackEntry<C> => e;

const revert = (name: string, preset: RevertConfigInput) => (k: ServerKnowledge, c: RevertConfigInput = {}) =>
  new RevertLMAttack(k, { ...preset, ...c, projector: { ...preset.projector, ...c.projector }, generator: { ...preset.generator, ...c.generator } }, name);

export const ATTACKS = {
  sip: entry<Partial<SipConfig>>({
    description: 'SIP: learned direct inversion, bidirectional Transformer H_k → token logits (BiSR\'s SIP attacker)',
    needsLm: false, oracle: false, trains: true, architectureOnly: true,
    create: (k, c) => new SipAttack(k, c),
  }),
  nn: entry<Record<string, never>>({
    description: 'nearest-neighbour lookup: per position the token whose input embedding is closest (cosine) to H_k',
    needsLm: false, oracle: false, trains: false,
    create: (k) => new NearestAttack(k),
  }),
  opt: entry<Partial<OptimizeConfig>>({
    description: 'white-box optimisation (Song & Raghunathan relaxation): soft tokens through the device part matched to H_k',
    needsLm: false, oracle: false, trains: false,
    create: (k, c) => new OptimizeAttack(k, c),
  }),
  bisr: entry<BisrConfigInput>({
    description: 'BiSR(f) chaining: SIP logits initialise the white-box optimisation (through an estimate of a personalised device, when the traffic drifted)',
    needsLm: false, oracle: false, trains: true, estimatesDevice: true,
    create: (k, c) => new BisrAttack(k, c),
  }),
  'bisr-noadapt': entry<BisrConfigInput>({
    description: 'ablation: BiSR without adapter estimation (optimises through the pretrained device part only)',
    needsLm: false, oracle: false, trains: true,
    create: (k, c) => new BisrAttack(k, { ...c, adaptation: false }, 'bisr-noadapt'),
  }),
  tag: entry<Partial<GradientConfig>>({
    description: 'TAG-style gradient matching: relaxed labels whose tail gradient matches what a U-shape fine-tuning device sent back',
    needsLm: true, oracle: false, needsFinetune: true, trains: false,
    create: (k, c) => new GradientAttack(k, c),
  }),
  revertlm: entry<RevertConfigInput>({
    description: 'RevertLM: projector → autoregressive generator (cross-fitted) + LM prior + re-encoding consistency',
    needsLm: true, oracle: false, trains: true, estimatesDevice: true,
    create: revert('revertlm', {}),
  }),
  'revertlm-noadapt': entry<RevertConfigInput>({
    description: 'ablation: RevertLM without adapter estimation (re-encodes with the pretrained device part only)',
    needsLm: true, oracle: false, trains: true,
    create: revert('revertlm-noadapt', { adaptation: false }),
  }),
  'revertlm-nn': entry<RevertConfigInput>({
    description: 'ablation: RevertLM stage 1 + nearest-neighbour lookup (no stage 2)',
    needsLm: false, oracle: false, trains: true, estimatesDevice: true,
    create: revert('revertlm-nn', { stage2: 'nn', lambdas: [0] }),
  }),
  'revertlm-noprior': entry<RevertConfigInput>({
    description: 'ablation: RevertLM without the language prior (no shallow fusion)',
    needsLm: false, oracle: false, trains: true, estimatesDevice: true,
    create: revert('revertlm-noprior', { lambdas: [0] }),
  }),
  'revertlm-noreencode': entry<RevertConfigInput>({
    description: 'ablation: RevertLM without re-encoding consistency (best beam of the first prior weight)',
    needsLm: true, oracle: false, trains: true,
    create: revert('revertlm-noreencode', { reencode: 'off', lambdas: [0.5] }),
  }),
  'revertlm-learned': entry<RevertConfigInput>({
    description: "RevertLM's learned stages alone (projector → generator, beam search): no re-encoding, no prior, so no device weights needed",
    needsLm: false, oracle: false, trains: true, architectureOnly: true,
    create: revert('revertlm-learned', { reencode: 'off', lambdas: [0] }),
  }),
  'revertlm-oracle': entry<RevertConfigInput>({
    description: 'upper bound (not an attack): stage 2 alone, trained on and fed the true token embeddings',
    needsLm: false, oracle: true, trains: true,
    create: revert('revertlm-oracle', { oracle: true, reencode: 'off', lambdas: [0] }),
  }),
} as const;

export type AttackName = keyof typeof ATTACKS;
export type AttackConfig<N extends AttackName> = (typeof ATTACKS)[N] extends AttackEntry<infer C> ? C : never;

export const ATTACK_NAMES = Object.keys(ATTACKS) as AttackName[];

/** Whether the attack reads U-shape fine-tuning traffic, which only a real capture has. */
export function readsFinetuneTraffic(name: AttackName): boolean {
  return (ATTACKS[name] as AttackEntry<unknown>).needsFinetune === true;
}

/** Attacks that run on activations alone, so on simulated captures too (sweeps, audits, trade-offs). */
export const ACTIVATION_ATTACK_NAMES = ATTACK_NAMES.filter((n) => !readsFinetuneTraffic(n));

/** Whether the attack runs without the device's weights (architecture knowledge). */
export function needsOnlyArchitecture(name: AttackName): boolean {
  return (ATTACKS[name] as AttackEntry<unknown>).architectureOnly === true;
}

/** Refuses an attack that a simulated capture cannot feed, naming the fix. */
export function assertRunsOnActivations(name: AttackName): void {
  if (readsFinetuneTraffic(name)) {
    throw new Error(`attack '${name}' reads U-shape fine-tuning traffic, which a simulated capture does not have: run it on a real capture (revertlm attack --capture DIR --attack ${name})`);
  }
}

export function isAttackName(s: string): s is AttackName {
  return Object.prototype.hasOwnProperty.call(ATTACKS, s);
}

export function createAttack<N extends AttackName>(name: N, knowledge: ServerKnowledge, config?: AttackConfig<N>): Attack {
  const e = ATTACKS[name] as AttackEntry<AttackConfig<N>>;
  if (e.needsLm && !knowledge.lm) throw new Error(`attack '${name}' needs the pretrained model (knowledge.lm)`);
  return e.create(knowledge, config);
}

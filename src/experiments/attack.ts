// One attack end to end in a scenario: train it on the auxiliary text against what the attacker
// knows of the device, read the victim's captured traffic, invert, and score against the windows
// the evaluator — not the attack — holds. Every result carries its scenario and the measured drift.
import { tidy, keep, noGrad } from '../torch/index.js';
import { scoreAll } from '../metrics/index.js';
import {
  ATTACKS, assertRunsOnActivations, createAttack, needsOnlyArchitecture,
  type AdaptReport, type Attack, type AttackConfig, type AttackName, type Budget, type BudgetSpec, type InterceptSource, type InterceptedBatch, type OracleBatch, type ServerKnowledge,
} from '../attacks/index.js';
import { padBatch } from '../data/windows.js';
import type { ExperimentContext } from './context.js';
import { SCENARIO_PRESETS, describeScenario, deviceKey, resolveScenario, scenarioName, type Scenario } from './scenario.js';
import { scenarioKnowledge, weightsKey, type ScenarioTraffic, type WindowSampling } from './traffic.js';
import { hiddenDrift } from './drift.js';
import { silent, type ProgressSink } from './progress.js';

export interface AttackScores {
  rougeL: number;
  rouge1: number;
  rouge2: number;
  bleu: number;
  token_acc: number;
  exact_match: number;
  /** Fraction of windows recovered token for token. */
  exact_windows: number;
  pii: number | null;
  budget: Budget;
  /** Seconds spent inverting the whole victim capture (adaptation included). */
  invertSeconds: number;
  /** The attack's estimate of the victim's device (adapter estimation), when it made one. */
  adaptation?: { rounds: number; seconds: number; drift_left: number | null };
}

/** The scenario as results report it: its name, one line for a reader, and every setting. */
export interface ScenarioReport {
  name: string;
  description: string;
  settings: Scenario;
}

export function scenarioReport(s: Scenario): ScenarioReport {
  return { name: scenarioName(s), description: describeScenario(s), settings: s };
}

export interface TrainAttackOptions<N extends AttackName> {
  attack: N;
  /** What the attacker knows (device part, tokenizer, model, framing, simulated defense). */
  knowledge: ServerKnowledge;
  config?: AttackConfig<N>;
  /** Overrides of the context's budget for this attack. */
  budget?: Partial<BudgetSpec>;
  progress?: ProgressSink;
}

/** Creates one attack on the attacker's knowledge and trains it on the auxiliary text. */
export async function trainAttack<N extends AttackName>(ctx: ExperimentContext, o: TrainAttackOptions<N>): Promise<Attack> {
  const attack = createAttack(o.attack, o.knowledge, o.config);
  try {
    const progress = o.progress ?? silent;
    const aux = ATTACKS[o.attack].trains ? ctx.requireAux() : (ctx.aux ?? { texts: [], source: 'none' });
    await attack.fit({ texts: aux.texts, source: aux.source }, {
      budget: { ...ctx.budget, ...o.budget }, seed: ctx.seed,
      onProgress: (p) => progress({ part: `${o.attack} k=${o.knowledge.device.splitPoint}`, fraction: p.step / Math.max(1, p.totalSteps), detail: `${p.phase} loss ${p.loss.toFixed(3)}` }),
    });
    return attack;
  } catch (e) {
    attack.dispose();
    throw e;
  }
}

export interface Inverted {
  ids: number[][];
  texts: string[];
}

/** Inverts every batch of a source, in order. */
export function invertSource(attack: Attack, source: InterceptSource, batchSize = 32): Inverted {
  const out: Inverted = { ids: [], texts: [] };
  for (const b of source.batches(batchSize)) {
    const r = attack.invert(b);
    out.ids.push(...r.ids);
    out.texts.push(...r.texts);
  }
  return out;
}

/**
 * Every window of a capture inverted, after the attack's corpus-level step (adapter estimation)
 * when it has one; in source order.
 */
export async function invertCorpus(attack: Attack, source: InterceptSource): Promise<{ inv: Inverted; report: AdaptReport | null }> {
  if (attack.invertAll) {
    const { inversion, report } = await attack.invertAll(source);
    return { inv: { ids: inversion.ids, texts: inversion.texts }, report };
  }
  const report = attack.adapt ? await attack.adapt(source) : null;
  return { inv: invertSource(attack, source), report };
}

/** Fraction of windows whose recovered ids equal the true ones, token for token. */
export function exactWindows(truth: readonly (readonly number[])[], recovered: readonly (readonly number[])[]): number {
  if (truth.length !== recovered.length) throw new RangeError(`${truth.length} windows but ${recovered.length} reconstructions`);
  if (!truth.length) return 0;
  const same = truth.filter((t, i) => t.length === recovered[i]!.length && t.every((x, j) => x === recovered[i]![j])).length;
  return same / truth.length;
}

export interface RunAttackOptions<N extends AttackName = AttackName> {
  attack: N;
  splitPoint: number;
  /** Default: the `exact` scenario. */
  scenario?: Scenario;
  config?: AttackConfig<N>;
  /** Overrides of the context's budget for this attack. */
  budget?: Partial<BudgetSpec>;
  /**
   * Changes to what the attacker knows beyond the scenario (an adaptive attacker's simulated
   * defense), with a key naming them: attackers trained on the same knowledge are shared by key.
   */
  adaptive?: { key: string; knowledge: (base: ServerKnowledge) => Partial<ServerKnowledge> };
  /** Number of (reference, reconstruction) examples to return. */
  examples?: number;
  /** Restore the attacker from this directory (written by `saveTo`) instead of training it. */
  loadFrom?: string;
  /** Write the trained attacker to this directory. */
  saveTo?: string;
  progress?: ProgressSink;
}

export interface RunAttackResult {
  split: number;
  attack: string;
  scenario: ScenarioReport;
  /** ‖H_victim − H_pretrained‖ / ‖H_pretrained‖ on the scored windows. */
  drift: number;
  /** How the scored windows were chosen. */
  sampling: WindowSampling;
  /** null when the attack cannot run on what the attacker knows (see notApplicable). */
  scores: AttackScores | null;
  notApplicable?: string;
  /** Every scored pair, in capture order. */
  references: string[];
  reconstructions: string[];
  examples: { reference: string; reconstruction: string }[];
}

/** Why an attack cannot run on what the attacker knows, or null when it can. */
export function notApplicable(name: AttackName, scenario: Scenario): string | null {
  if (scenario.knowledge === 'architecture' && !needsOnlyArchitecture(name)) {
    return `${name} needs the device's weights; the attacker knows the architecture only`;
  }
  return null;
}

/** Trains one attack (or reuses one trained on the same knowledge) and scores it on the scenario's traffic. */
export async function runAttack<N extends AttackName>(ctx: ExperimentContext, o: RunAttackOptions<N>): Promise<RunAttackResult> {
  assertRunsOnActivations(o.attack);
  const scenario = o.scenario ?? resolveScenario(SCENARIO_PRESETS.exact, 'exact');
  // An attacker restored from a directory is the caller's own: its results are not kept.
  const storeKey = ctx.store && !o.loadFrom ? resultKey(o, scenario) : null;
  const stored = storeKey ? ctx.store!.get(storeKey) : null;
  if (stored) {
    (o.progress ?? silent)({ part: `${o.attack} k=${o.splitPoint}`, fraction: 1, detail: 'kept from the interrupted run' });
    return { ...stored, examples: examplesOf(stored.references, stored.reconstructions, o.examples) };
  }
  const r = await computeAttack(ctx, o, scenario);
  if (storeKey) ctx.store!.put(storeKey, { ...r, examples: [] });
  return r;
}

function examplesOf(refs: readonly string[], recs: readonly string[], n = 3): { reference: string; reconstruction: string }[] {
  return refs.slice(0, n).map((reference, i) => ({ reference, reconstruction: recs[i]! }));
}

/** Everything a result depends on beyond the experiment's own scope (model, texts, budget, seed). */
function resultKey<N extends AttackName>(o: RunAttackOptions<N>, scenario: Scenario): string {
  return ['result', o.attack, o.splitPoint, JSON.stringify(scenario), o.adaptive?.key ?? '-', JSON.stringify(o.config ?? {}), JSON.stringify(o.budget ?? {})].join('|');
}

async function computeAttack<N extends AttackName>(ctx: ExperimentContext, o: RunAttackOptions<N>, scenario: Scenario): Promise<RunAttackResult> {
  const progress = o.progress ?? silent;
  const traffic = await ctx.traffic(o.splitPoint, scenario, progress);
  const base = { split: o.splitPoint, attack: o.attack, scenario: scenarioReport(scenario), drift: traffic.drift, sampling: traffic.sampling };
  const na = notApplicable(o.attack, scenario);
  if (na) return { ...base, scores: null, notApplicable: na, references: [], reconstructions: [], examples: [] };
  const key = attackerKey(o, traffic);
  const attack = await sharedAttacker(ctx, o, traffic, progress, key);
  // The same attacker on the same traffic inverts to the same windows: a trade-off's naive attacker
  // at level 0 reuses the sweep's inversion instead of repeating it.
  const { inv, adaptation, invertSeconds } = await ctx.memo(`inverted|${key}|${deviceKey(scenario)}`, async () => {
    const source = traffic.open();
    const t0 = performance.now();
    try {
      let inv: Inverted;
      let report: AdaptReport | null = null;
      if (ATTACKS[o.attack].oracle) inv = invertOracle(attack, source, traffic.referenceIds, ctx.tokenizer.padTokenId ?? 0);
      else ({ inv, report } = await invertCorpus(attack, source));
      const invertSeconds = (performance.now() - t0) / 1000;
      // How much of the drift the attacker's estimate of the device explains (the evaluator measures it
      // on the true windows), taken now: a later scenario may re-adapt the same shared attacker.
      const estimate = report && report.rounds > 0 && attack.deviceEstimate ? attack.deviceEstimate() : null;
      const adaptation = report && report.rounds > 0
        ? { rounds: report.rounds, seconds: report.seconds, drift_left: estimate ? hiddenDrift(traffic.victimPart, estimate, traffic.referenceIds) : null }
        : null;
      return { inv, adaptation, invertSeconds };
    } finally {
      source.dispose();
    }
  }, () => undefined);
  const refs = [...traffic.references];
  const s = scoreAll(refs, inv.texts);
  return {
    ...base,
    scores: {
      rougeL: s.rougeL, rouge1: s.rouge1, rouge2: s.rouge2, bleu: s.bleu, token_acc: s.token_acc, exact_match: s.exact_match,
      exact_windows: exactWindows(traffic.referenceIds, inv.ids), pii: s.pii, budget: attack.budget(), invertSeconds,
      ...(adaptation ? { adaptation } : {}),
    },
    references: refs,
    reconstructions: inv.texts,
    examples: examplesOf(refs, inv.texts, o.examples),
  };
}

/** Attackers built on the same knowledge, config, budget and source share this key. */
function attackerKey<N extends AttackName>(o: RunAttackOptions<N>, traffic: ScenarioTraffic): string {
  return ['attacker', o.attack, o.splitPoint, weightsKey(traffic), o.adaptive?.key ?? '-', JSON.stringify(o.config ?? {}), JSON.stringify(o.budget ?? {}), o.loadFrom ?? '-'].join('|');
}

/** The trained attacker for this knowledge, built once per context and shared by every scenario with the same weights. */
function sharedAttacker<N extends AttackName>(ctx: ExperimentContext, o: RunAttackOptions<N>, traffic: ScenarioTraffic, progress: ProgressSink, key: string): Promise<Attack> {
  const base = scenarioKnowledge(ctx, traffic, () => ctx.surrogate());
  const knowledge = { ...base, ...o.adaptive?.knowledge(base) };
  const build = async () => {
    let attack: Attack;
    if (o.loadFrom) {
      attack = createAttack(o.attack, knowledge, o.config);
      try {
        attack.load(o.loadFrom);
      } catch (e) {
        attack.dispose();
        throw e;
      }
    } else attack = await trainAttack(ctx, { attack: o.attack, knowledge, config: o.config, budget: o.budget, progress });
    return attack;
  };
  return ctx.memo(key, build, (a) => a.dispose()).then((a) => {
    if (o.saveTo) a.save(o.saveTo);
    return a;
  });
}

/** The oracle upper bound sees the victim's token ids: built here, by the evaluator, never by a capture. */
function invertOracle(attack: Attack, capture: InterceptSource, truth: readonly number[][], padId: number): Inverted {
  const out: Inverted = { ids: [], texts: [] };
  let offset = 0;
  for (const batch of capture.batches(32)) {
    const B = batch.hidden.size(0);
    const ob = oracleBatch(batch, truth.slice(offset, offset + B), padId);
    try {
      const r = attack.invert(ob);
      out.ids.push(...r.ids);
      out.texts.push(...r.texts);
    } finally {
      ob.oracleIds.dispose();
    }
    offset += B;
  }
  return out;
}

function oracleBatch(batch: InterceptedBatch, seqs: readonly number[][], padId: number): OracleBatch {
  const T = batch.hidden.size(1);
  const ids = keep(noGrad(() => tidy(() => padBatch(seqs, padId, T).ids)));
  return { hidden: batch.hidden, attentionMask: batch.attentionMask, splitPoint: batch.splitPoint, oracleIds: ids };
}

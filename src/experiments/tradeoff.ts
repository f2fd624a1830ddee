// The privacy–utility trade-off of one defense at one split point. For every level: utility is the
// split model's perplexity on held-out victim-domain text under the defense; privacy is what each
// attack recovers from the defended victim traffic, by a naive attacker (trained on clean auxiliary
// activations) and by an adaptive one (trained with the same defense applied to its auxiliary data,
// as BiSR's noise-aware training), so no defense looks stronger than it is.
import { loadModel } from '../models/index.js';
import type { AttackConfig, AttackName, ServerKnowledge } from '../attacks/index.js';
import type { SweepOptions } from './sweep.js';
import { SCENARIO_PRESETS, resolveScenario, type Scenario } from './scenario.js';
import { createDefense, DefendedDevice, type Defense, type DefenseName } from '../defenses/index.js';
import type { ExperimentContext } from './context.js';
import { runAttack, scenarioReport, type ScenarioReport } from './attack.js';
import { defendedFinetune } from './finetune.js';
import { splitPerplexity } from './utility.js';
import { WorkCounter } from './progress.js';
import { calibration } from './traffic.js';

export interface TradeoffOptions {
  splitPoint: number;
  /** The scenario the device runs in; each level adds the defense to it (default: exact). */
  scenario?: Scenario;
  defense: DefenseName;
  levels: number[];
  attacks: AttackName[];
  /** Split LoRA fine-tuning steps of training-time defenses (NoPeek). */
  finetuneSteps?: number;
  /** Per-attack configurations (as in a sweep). */
  configs?: SweepOptions['configs'];
}

export interface AttackerScore {
  rougeL: number;
  exact_windows: number;
  pii: number | null;
}

export interface TradeoffLevelResult {
  level: number;
  perplexity: number;
  epsilon: number | null;
  /** Drift of the victim's device at this level (a training-time defense changes it). */
  drift: number;
  attacks: Record<string, { naive: AttackerScore; adaptive: AttackerScore }>;
}

export interface TradeoffResult {
  defense: DefenseName;
  split: number;
  /** ROUGE-L of recovering nothing: each scored window against another of them (metrics/chance.ts). */
  chance_rougeL: number | null;
  scenario: ScenarioReport;
  levels: TradeoffLevelResult[];
}

/** The scenario a defense level runs in: the device applies the defense (and, for a training-time one, fine-tunes with it). */
export function defendedScenario(scenario: Scenario, defense: DefenseName, level: number, finetuneSteps: number): Scenario {
  const training = createDefense({ name: defense, level }).stage === 'training';
  if (!training) return { ...scenario, defense: level === 0 ? null : { name: defense, level } };
  // NoPeek changes training: an unpersonalized device fine-tunes (LoRA) under the penalty, level 0 included,
  // so every level's utility and traffic come after the same fine-tuning budget.
  const personalize = scenario.personalize.mode === 'none' ? { ...scenario.personalize, mode: 'lora' as const, steps: finetuneSteps } : scenario.personalize;
  return { ...scenario, personalize, defense: { name: defense, level } };
}

export async function runTradeoff(ctx: ExperimentContext, o: TradeoffOptions): Promise<TradeoffResult> {
  const k = o.splitPoint;
  const { server } = ctx.parts(k);
  const aux = ctx.requireAux();
  const victim = ctx.requireVictim();
  if (!victim.utility.length) throw new Error('the trade-off needs held-out victim text for utility (create the context with holdOut)');
  const scenario = o.scenario ?? resolveScenario(SCENARIO_PRESETS.exact, 'exact');
  const finetuneSteps = o.finetuneSteps ?? 60;
  const cal = await calibration(ctx, k);
  const make = (level: number, seed: number): Defense => createDefense({ name: o.defense, level, seed, ...cal });
  const finetune = defendedFinetune({ loadModel: () => loadModel(ctx.modelDir), tokenizer: ctx.tokenizer, splitPoint: k, steps: finetuneSteps, maxTokens: Math.max(ctx.maxTokens, 64), seed: ctx.seed });
  const work = new WorkCounter(ctx.progress, o.levels.length * o.attacks.length * 2);
  const out: TradeoffResult = { defense: o.defense, split: k, chance_rougeL: null, scenario: scenarioReport(scenario), levels: [] };
  for (const level of o.levels) {
    // The adaptive attacker's simulation draws noise independent of the device's.
    const attackerDefense = make(level, ctx.seed * 1000 + 2);
    const training = attackerDefense.stage === 'training';
    const atLevel = defendedScenario(scenario, o.defense, level, finetuneSteps);
    const traffic = await ctx.traffic(k, atLevel);
    out.chance_rougeL ??= traffic.sampling.chance_rougeL;
    const ppl = splitPerplexity(traffic.victimPart, server, ctx.tokenizer, victim.utility, training ? null : make(level, ctx.seed * 1000 + 1), { maxTokens: Math.max(ctx.maxTokens, 64) });
    const priv = attackerDefense.privacy();
    const row: TradeoffLevelResult = { level, perplexity: ppl.perplexity, epsilon: priv && Number.isFinite(priv.epsilon) ? priv.epsilon : null, drift: traffic.drift, attacks: {} };
    // The naive attacker knows what the scenario says; the adaptive one also trains on auxiliary
    // activations with the defense simulated (fresh noise every batch) while its white-box steps keep
    // the clean part — for NoPeek, a device part it fine-tuned itself on its own text with the same penalty.
    const attackerTuned = training
      ? (await ctx.memo(`nopeek-attacker|${k}|${level}`, () => finetune(attackerDefense, aux.texts), (t) => t.dispose())).device
      : null;
    const adaptive = {
      key: `adaptive:${o.defense}:${level}`,
      knowledge: attackerTuned
        ? () => ({ device: attackerTuned })
        : (base: ServerKnowledge) => ({ trafficDevice: new DefendedDevice(base.device, attackerDefense) }),
    };
    for (const name of o.attacks) {
      const score = async (who: 'naive' | 'adaptive') => {
        const r = await runAttack(ctx, { attack: name, splitPoint: k, scenario: atLevel, config: o.configs?.[name] as AttackConfig<typeof name> | undefined, examples: 0, progress: work.unit(), ...(who === 'adaptive' ? { adaptive } : {}) });
        work.finish(`${o.defense}=${level}`, `${who} ${name}: ${r.scores ? `ROUGE-L ${r.scores.rougeL.toFixed(3)}` : 'not applicable'}`);
        return r.scores ? { rougeL: r.scores.rougeL, exact_windows: r.scores.exact_windows, pii: r.scores.pii } : null;
      };
      const naive = await score('naive');
      // At level 0 an inference-time defense is the identity, so the adaptive attacker is the naive one.
      const adapt = !training && level === 0 ? naive : await score('adaptive');
      if (!training && level === 0) work.finish(`${o.defense}=${level}`, `adaptive ${name}: as naive`);
      if (naive && adapt) row.attacks[name] = { naive, adaptive: adapt };
    }
    out.levels.push(row);
  }
  return out;
}

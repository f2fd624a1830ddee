// The privacy–utility trade-off of one defense at one split point. For every level: utility is the
// split model's perplexity on held-out victim-domain text under the defense; privacy is what each
// attack recovers from the defended victim traffic, by a naive attacker (trained on clean auxiliary
// activations) and by an adaptive one (trained with the same defense applied to its auxiliary data,
// as BiSR's noise-aware training), so no defense looks stronger than it is.
import { ids, noGrad, tidy } from '../torch/index.js';
import { loadModel, type DevicePart, type TextTokenizer } from '../models/index.js';
import type { AttackName, ServerKnowledge } from '../attacks/index.js';
import { createDefense, DefendedDevice, type Defense, type DefenseName } from '../defenses/index.js';
import type { ExperimentContext } from './context.js';
import { runAttack } from './attack.js';
import { defendedFinetune, type FinetunedParts } from './finetune.js';
import { splitPerplexity } from './utility.js';
import { WorkCounter } from './progress.js';

export interface TradeoffOptions {
  splitPoint: number;
  defense: DefenseName;
  levels: number[];
  attacks: AttackName[];
  /** Split LoRA fine-tuning steps of training-time defenses (NoPeek). */
  finetuneSteps?: number;
}

export interface AttackerScore {
  rougeL: number;
  pii: number | null;
}

export interface TradeoffLevelResult {
  level: number;
  perplexity: number;
  epsilon: number | null;
  attacks: Record<string, { naive: AttackerScore; adaptive: AttackerScore }>;
}

export interface TradeoffResult {
  defense: DefenseName;
  split: number;
  levels: TradeoffLevelResult[];
}

/** RMS of the clean activations H_k over auxiliary text: the unit of a Gaussian level. */
export function activationRms(device: DevicePart, tokenizer: TextTokenizer, texts: readonly string[], maxTokens = 32): number {
  let sum = 0;
  let n = 0;
  for (const t of texts.slice(0, 64)) {
    const seq = tokenizer.encode(t).slice(0, maxTokens);
    if (!seq.length) continue;
    sum += noGrad(() => tidy(() => device.forward(ids([seq])).hidden.square().sum().item()));
    n += seq.length * device.config.dModel;
  }
  if (!n) throw new Error('no auxiliary text to calibrate the activation RMS on');
  return Math.sqrt(sum / n);
}

export async function runTradeoff(ctx: ExperimentContext, o: TradeoffOptions): Promise<TradeoffResult> {
  const k = o.splitPoint;
  const { device, server } = ctx.parts(k);
  const aux = ctx.requireAux();
  const victim = ctx.requireVictim();
  if (!victim.utility.length) throw new Error('the trade-off needs held-out victim text for utility (create the context with holdOut)');
  const rms = activationRms(device, ctx.tokenizer, aux.texts, ctx.maxTokens);
  const make = (level: number, seed: number): Defense => createDefense({ name: o.defense, level, seed, rms, dim: device.config.dModel });
  const finetune = defendedFinetune({ loadModel: () => loadModel(ctx.modelDir), tokenizer: ctx.tokenizer, splitPoint: k, steps: o.finetuneSteps ?? 60, maxTokens: Math.max(ctx.maxTokens, 64), seed: ctx.seed });
  const work = new WorkCounter(ctx.progress, o.levels.length * o.attacks.length * 2);
  const out: TradeoffResult = { defense: o.defense, split: k, levels: [] };
  for (const level of o.levels) {
    // The device's defense and the adaptive attacker's simulation draw independent noise.
    const seed = ctx.seed * 1000;
    const deviceDefense = make(level, seed + 1);
    const attackerDefense = make(level, seed + 2);
    const training = deviceDefense.stage === 'training';
    let tuned: FinetunedParts | null = null;
    let attackerTuned: FinetunedParts | null = null;
    // Level 0 of a training-time defense is plain split fine-tuning, so every level's utility is
    // measured after the same fine-tuning budget.
    if (training) {
      tuned = await finetune(deviceDefense, victim.finetune.length ? victim.finetune : victim.utility);
      // The adaptive attacker repeats the defended fine-tuning on its own auxiliary text.
      attackerTuned = await finetune(attackerDefense, aux.texts);
    }
    try {
      const ppl = splitPerplexity(tuned?.device ?? device, tuned?.server ?? server, ctx.tokenizer, victim.utility, training ? null : deviceDefense, { maxTokens: Math.max(ctx.maxTokens, 64) });
      const priv = deviceDefense.privacy();
      const row: TradeoffLevelResult = { level, perplexity: ppl.perplexity, epsilon: priv && Number.isFinite(priv.epsilon) ? priv.epsilon : null, attacks: {} };
      const victimDevice = training ? tuned!.device : new DefendedDevice(device, deviceDefense);
      // The naive attacker uses the pretrained device part; the adaptive one trains on auxiliary
      // activations with the defense applied (fresh noise every batch) while its white-box steps keep
      // the clean part (for NoPeek: a device part it fine-tuned itself with the same penalty).
      const adaptive: Partial<ServerKnowledge> = training ? { device: attackerTuned!.device } : { trafficDevice: new DefendedDevice(device, attackerDefense) };
      for (const name of o.attacks) {
        const score = async (knowledge: Partial<ServerKnowledge>, who: string) => {
          const r = await runAttack(ctx, { attack: name, splitPoint: k, knowledge, victimDevice, examples: 0, progress: work.unit() });
          work.finish(`${o.defense}=${level}`, `${who} ${name}: ROUGE-L ${r.scores.rougeL.toFixed(3)}`);
          return { rougeL: r.scores.rougeL, pii: r.scores.pii };
        };
        const naive = await score({}, 'naive');
        // At level 0 an inference-time defense is the identity, so the adaptive attacker is the naive one.
        const adapt = !training && level === 0 ? naive : await score(adaptive, 'adaptive');
        if (!training && level === 0) work.finish(`${o.defense}=${level}`, `adaptive ${name}: as naive`);
        row.attacks[name] = { naive, adaptive: adapt };
      }
      out.levels.push(row);
    } finally {
      tuned?.dispose();
      attackerTuned?.dispose();
    }
  }
  return out;
}

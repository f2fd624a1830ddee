// The privacy–utility trade-off of one defense at one split point. For every level: utility is the
// split model's perplexity on held-out victim-domain text under the defense; privacy is what each
// attack recovers from the defended victim traffic, by a naive attacker (trained on clean auxiliary
// activations) and by an adaptive one (trained with the same defense applied to its auxiliary data,
// as BiSR's noise-aware training), so no defense looks stronger than it is.
import { ids, noGrad, tidy } from '../torch/index.js';
import type { CausalLM, DevicePart, ServerPart, TextTokenizer } from '../models/types.js';
import { createAttack, simulateCapture, victimSegments, type AttackName, type BudgetSpec, type Progress, type ServerKnowledge } from '../attacks/index.js';
import { scoreAll } from '../metrics/index.js';
import { createDefense } from './registry.js';
import { GaussianDefense } from './gaussian.js';
import { DefendedDevice } from './defended_device.js';
import { splitPerplexity } from './utility.js';
import type { Defense, DefenseName } from './types.js';

export interface FinetunedParts {
  device: DevicePart;
  server: ServerPart;
  dispose(): void;
}

export interface TradeoffOptions {
  device: DevicePart;
  server: ServerPart;
  tokenizer: TextTokenizer;
  lm?: CausalLM;
  defense: DefenseName;
  levels: number[];
  attacks: AttackName[];
  auxTexts: readonly string[];
  victimTexts: readonly string[];
  /** Held-out victim-domain text for perplexity (disjoint from victimTexts). */
  utilityTexts: readonly string[];
  budget?: Partial<BudgetSpec>;
  maxTokens?: number;
  seed?: number;
  /** Device fine-tuning text for training-time defenses (victim domain, disjoint from victimTexts). */
  finetuneTexts?: readonly string[];
  /** Split LoRA fine-tuning of fresh copies of the parts under a training-time defense (NoPeek). */
  finetune?: (defense: Defense, texts: readonly string[]) => Promise<FinetunedParts>;
  onProgress?: (p: Progress & { level: number; attacker: 'naive' | 'adaptive' }) => void;
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

async function scoreAttacker(
  o: TradeoffOptions,
  name: AttackName,
  knowledge: Pick<ServerKnowledge, 'device' | 'trafficDevice'>,
  victimDevice: DevicePart,
  segments: readonly string[],
  onProgress?: (p: Progress) => void,
): Promise<AttackerScore> {
  const attack = createAttack(name, { ...knowledge, tokenizer: o.tokenizer, lm: o.lm });
  try {
    const maxTokens = o.maxTokens ?? 32;
    await attack.fit({ texts: o.auxTexts }, { budget: { maxTokens, ...o.budget }, seed: o.seed ?? 0, onProgress });
    const capture = simulateCapture(victimDevice, o.tokenizer, segments, { maxTokens });
    const hyps: string[] = [];
    try {
      for (const b of capture.batches(32)) hyps.push(...attack.invert(b).texts);
    } finally {
      capture.dispose();
    }
    const s = scoreAll(segments, hyps);
    return { rougeL: s.rougeL, pii: s.pii };
  } finally {
    attack.dispose();
  }
}

export async function tradeoff(o: TradeoffOptions): Promise<TradeoffResult> {
  const maxTokens = o.maxTokens ?? 32;
  const segments = victimSegments(o.victimTexts, o.tokenizer, { maxTokens });
  const rms = o.defense === 'gaussian' ? activationRms(o.device, o.tokenizer, o.auxTexts, maxTokens) : undefined;
  const make = (level: number, seed: number): Defense =>
    o.defense === 'gaussian'
      ? new GaussianDefense({ level, seed, rms, dim: o.device.config.dModel })
      : createDefense({ name: o.defense, level, seed });
  const out: TradeoffResult = { defense: o.defense, split: o.device.splitPoint, levels: [] };
  for (const level of o.levels) {
    // The device's defense and the adaptive attacker's simulation draw independent noise.
    const seed = (o.seed ?? 0) * 1000;
    const deviceDefense = make(level, seed + 1);
    const attackerDefense = make(level, seed + 2);
    const training = deviceDefense.stage === 'training';
    let tuned: FinetunedParts | null = null;
    let attackerTuned: FinetunedParts | null = null;
    // Level 0 of a training-time defense is plain split fine-tuning, so every level's utility is
    // measured after the same fine-tuning budget.
    if (training) {
      if (!o.finetune) throw new Error(`${o.defense} is a training-time defense: the trade-off needs a split fine-tuning routine`);
      tuned = await o.finetune(deviceDefense, o.finetuneTexts ?? o.utilityTexts);
      // The adaptive attacker repeats the defended fine-tuning on its own auxiliary text.
      attackerTuned = await o.finetune(attackerDefense, o.auxTexts);
    }
    try {
      const device = tuned?.device ?? o.device;
      const server = tuned?.server ?? o.server;
      const ppl = splitPerplexity(device, server, o.tokenizer, o.utilityTexts, training ? null : deviceDefense, { maxTokens: Math.max(maxTokens, 64) });
      const priv = deviceDefense.privacy();
      const row: TradeoffLevelResult = {
        level,
        perplexity: ppl.perplexity,
        epsilon: priv && Number.isFinite(priv.epsilon) ? priv.epsilon : null,
        attacks: {},
      };
      const victimDevice = training ? device : new DefendedDevice(device, deviceDefense);
      // The naive attacker uses the pretrained device part; the adaptive one trains on auxiliary
      // activations with the defense applied (fresh noise every batch) while its white-box steps keep
      // the clean part (for NoPeek: a device part it fine-tuned itself with the same penalty).
      const adaptiveKnowledge = training
        ? { device: attackerTuned?.device ?? o.device }
        : { device: o.device, trafficDevice: new DefendedDevice(o.device, attackerDefense) };
      for (const name of o.attacks) {
        const report = (attacker: 'naive' | 'adaptive') => (o.onProgress ? (p: Progress) => o.onProgress!({ ...p, level, attacker }) : undefined);
        const naive = await scoreAttacker(o, name, { device: o.device }, victimDevice, segments, report('naive'));
        // At level 0 an inference-time defense is the identity, so the adaptive attacker is the naive one.
        const adaptive = !training && level === 0 ? naive : await scoreAttacker(o, name, adaptiveKnowledge, victimDevice, segments, report('adaptive'));
        row.attacks[name] = { naive, adaptive };
      }
      out.levels.push(row);
    } finally {
      tuned?.dispose();
      attackerTuned?.dispose();
    }
  }
  return out;
}

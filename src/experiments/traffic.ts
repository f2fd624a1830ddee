// The victim's traffic in a scenario, and what the attacker knows. The victim's device is set up as
// the scenario says (pretrained, or personalized on the victim's own text through the split runtime,
// in-process), then the server's capture of what it sent — each window exactly as it crossed the
// wire, defense and wire precision included — is what the attacks read. The evaluator keeps the
// windows' token ids and text; the measured drift says how far the device moved from the pretrained part.
import { ids, noGrad, tidy } from '../torch/index.js';
import { randomModel, splitModel, type DevicePart, type TextTokenizer, type Transformer } from '../models/index.js';
import { withAnnouncedAdapters, type InterceptSource, type ServerKnowledge } from '../attacks/index.js';
import type { ExperimentContext } from './context.js';
import { personalizeDevice, type PersonalizedDevice } from './personalize.js';
import { scoredCapture } from './references.js';
import { hiddenDrift } from './drift.js';
import { deviceKey, type Scenario } from './scenario.js';
import type { ProgressSink } from './progress.js';
import { chanceRougeL } from '../metrics/chance.js';

/** How the scored windows were chosen: every result carries it. */
export interface WindowSampling {
  /** Windows scored. */
  segments: number;
  /** Windows they were drawn from. */
  of: number;
  method: 'seeded uniform sample' | 'last fine-tuning steps';
  seed: number;
  /** Tokens per window. */
  maxTokens: number;
  /** ROUGE-L of each scored window against another of them (metrics/chance.ts): the score of recovering nothing. */
  chance_rougeL: number | null;
  /**
   * Share of the scored windows' tokens whose input embedding has a near-copy in the model
   * (experiments/near_copies.ts): where it is large, exact recovery under drift is capped.
   */
  near_copy_share: number;
}

export interface ScenarioTraffic {
  readonly scenario: Scenario;
  readonly splitPoint: number;
  /** The victim's device part as it sends (personalized when the scenario says so), undefended. */
  readonly victimPart: DevicePart;
  /** The evaluator's side, in capture order: each captured window's token ids and text. */
  readonly referenceIds: readonly number[][];
  readonly references: readonly string[];
  /** How the windows were chosen. */
  readonly sampling: WindowSampling;
  /** ‖H_victim − H_pretrained‖ / ‖H_pretrained‖ on the captured windows. */
  readonly drift: number;
  /** The device's fine-tuning losses (empty when not personalized). */
  readonly losses: readonly number[];
  /** The captured traffic, read afresh (the caller disposes it). */
  open(): InterceptSource;
  dispose(): void;
}

/** Windows per device message in the personalization and its captures (as `revertlm device --batch`). */
const DEVICE_BATCH = 4;

/**
 * Personalizes the victim's device at split point k as the scenario says and captures what it sends:
 * the first `count` windows of the seeded order of its text (`revertlm device --evaluate`), or the
 * fine-tuning windows themselves (capture phase `training`).
 */
export async function scenarioTraffic(ctx: ExperimentContext, k: number, scenario: Scenario, progress?: ProgressSink): Promise<ScenarioTraffic> {
  const victim = ctx.requireVictim();
  const p = scenario.personalize;
  const steps = p.mode === 'none' ? 0 : p.steps;
  const count = victim.windows;
  const device: PersonalizedDevice = await personalizeDevice({
    modelDir: ctx.modelDir, splitPoint: k, texts: victim.texts, personalization: p, batch: DEVICE_BATCH, seq: ctx.maxTokens,
    wireDtype: scenario.wireDtype,
    defense: scenario.defense ? { ...scenario.defense, seed: ctx.seed * 1000 + 1, ...(await calibration(ctx, k)) } : null,
    capturePhase: scenario.capturePhase, captureWindows: count,
    // Reported at the start of the caller's range: what follows (training attackers) reports its own fractions.
    onStep: progress ? (s) => progress({ part: 'personalize', fraction: 0, detail: `k=${k} device step ${s.step}/${steps} loss ${s.loss.toFixed(3)}` }) : undefined,
  });
  try {
    // Training traffic: the windows of the last fine-tuning steps (the most personalized ones).
    const training = scenario.capturePhase === 'training';
    const selection = { ...device.selection, ...(training ? { fromStep: Math.max(1, steps - Math.ceil(count / DEVICE_BATCH) + 1), toStep: steps } : {}) };
    const open = () => scoredCapture(device.captureDir, ctx.tokenizer, { texts: device.referenceTexts }, { ...selection, seed: p.seed, evalBatch: DEVICE_BATCH });
    const first = open();
    first.source.dispose();
    const { referenceIds, references } = first;
    const drift = hiddenDrift(device.part, ctx.parts(k).device, referenceIds);
    const sampling: WindowSampling = {
      segments: referenceIds.length,
      ...(training ? { of: steps * DEVICE_BATCH, method: 'last fine-tuning steps' as const } : { of: windowCount(ctx, victim.texts), method: 'seeded uniform sample' as const }),
      seed: p.seed, maxTokens: ctx.maxTokens, chance_rougeL: chanceRougeL(references), near_copy_share: ctx.nearCopyShare(referenceIds),
    };
    return {
      scenario, splitPoint: k, victimPart: device.part, referenceIds, references, sampling, drift, losses: device.losses,
      open: () => announced(scenario, open().source),
      dispose: () => device.dispose(),
    };
  } catch (e) {
    device.dispose();
    throw e;
  }
}

/**
 * The capture as the scenario's server holds it. A LoRA device's session announced the shapes both
 * sides use, recorded with the capture (serve/device --lora-rank/--lora-targets; alpha 2 × rank). The
 * scenarios say that a device that trains every weight, or never fine-tuned, announced none, though
 * the in-process server recorded its own adapters' settings for them too.
 */
function announced(scenario: Scenario, source: InterceptSource): InterceptSource {
  return scenario.personalize.mode === 'lora' ? source : withAnnouncedAdapters(source, undefined);
}

/** How many windows of maxTokens tokens the victim's text makes (the set the sample is drawn from). */
function windowCount(ctx: ExperimentContext, texts: readonly string[]): number {
  let tokens = 0;
  for (const t of texts) tokens += ctx.tokenizer.encode(t, { addEos: true }).length;
  return Math.floor(tokens / ctx.maxTokens);
}

/**
 * What the attacker knows at split point k in the scenario: the victim's exact device part, the
 * pretrained one, or (architecture only) a device part of the same architecture with weights of its
 * own — learned attacks train on that surrogate; white-box attacks are not applicable.
 */
export function scenarioKnowledge(ctx: ExperimentContext, traffic: ScenarioTraffic, surrogate: () => Transformer): ServerKnowledge {
  // The framing of the windows is not announced: attacks infer it from the traffic.
  const base = { tokenizer: ctx.tokenizer };
  switch (traffic.scenario.knowledge) {
    case 'exact':
      return { ...base, device: traffic.victimPart, lm: ctx.model };
    case 'pretrained':
      return { ...base, device: ctx.parts(traffic.splitPoint).device, lm: ctx.model };
    case 'architecture':
      return { ...base, device: splitModel(surrogate(), traffic.splitPoint).device };
  }
}

/** Which weights an attacker trains against: attackers trained on the same weights serve every such scenario. */
export function weightsKey(traffic: ScenarioTraffic): string {
  const s = traffic.scenario;
  if (s.knowledge === 'pretrained' || (s.knowledge === 'exact' && s.personalize.mode === 'none')) return 'pretrained';
  if (s.knowledge === 'architecture') return 'surrogate';
  return `victim:${deviceKey(s)}`;
}

/** A model of the same architecture with weights of its own (seeded): the attacker without weights. */
export function surrogateModel(ctx: ExperimentContext): Transformer {
  return randomModel(ctx.model.config, ctx.seed + 7919);
}

/**
 * The unit of a Gaussian level at split point k: the RMS of the pretrained part's activations on the
 * auxiliary text (public knowledge, so the device and the adaptive attacker use the same one).
 */
export async function calibration(ctx: ExperimentContext, k: number): Promise<{ rms?: number; dim: number }> {
  const dim = ctx.model.config.dModel;
  if (!ctx.aux) return { dim };
  const aux = ctx.aux;
  return { rms: await ctx.memo(`rms|${k}`, async () => activationRms(ctx.parts(k).device, ctx.tokenizer, aux.texts, ctx.maxTokens), () => undefined), dim };
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

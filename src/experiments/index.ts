// The experiments layer: every run is built from one ExperimentContext (createContext) and each
// experiment is a small module on it. The spec-level functions here create and dispose the context
// for one run; the run*(ctx, …) functions share a context between runs.
import { createContext, type ContextSpec, type ExperimentContext } from './context.js';
import { runSweep, type SweepOptions, type SweepResult } from './sweep.js';
import { runTradeoff, type TradeoffOptions, type TradeoffResult } from './tradeoff.js';
import { runAttack, type RunAttackOptions, type RunAttackResult } from './attack.js';
import type { AttackName } from '../attacks/index.js';

export { createContext, defaultSplitPoints, type ContextSpec, type ExperimentContext, type VictimSet } from './context.js';
export { runSweep, sweepJson, type SweepOptions, type SweepResult, type SweepSplit, type ScenarioSweep } from './sweep.js';
export { runTradeoff, defendedScenario, type TradeoffOptions, type TradeoffResult, type TradeoffLevelResult, type AttackerScore } from './tradeoff.js';
export { runAttack, trainAttack, invertSource, invertCorpus, exactWindows, notApplicable, scenarioReport, type ScenarioReport, type Inverted, type AttackScores, type RunAttackOptions, type RunAttackResult, type TrainAttackOptions } from './attack.js';
export { splitFinetune, defendedFinetune, finetuneSegments, type SplitFinetuneOptions, type SplitFinetuneResult, type FinetunedParts } from './finetune.js';
export { splitPerplexity, type SplitPerplexityOptions } from './utility.js';
export { simulateCapture, captureIds, segmentIds, type SimulateCaptureOptions } from './capture.js';
export { captureSource, generations, CAPTURE_PHASES, type CaptureSource, type CaptureSourceOptions, type CapturePhase, type CapturedWindow } from './capture_source.js';
export {
  personalizeDevice, resolvePersonalization, personalizationLoRA, PERSONALIZE_MODES, DEFAULT_PERSONALIZATION,
  type Personalization, type PersonalizeMode, type PersonalizeOptions, type PersonalizedDevice, type PersonalizeCapturePhase,
} from './personalize.js';
export { hiddenDrift } from './drift.js';
export { nearCopyShare, NearCopyMemo, nearCopyCensus, nearCopyTokens, nearCopyOptions, nearCopyNote, type NearCopyOptions } from './near_copies.js';
export {
  SCENARIO_PRESETS, DEFAULT_SCENARIOS, KNOWLEDGE_LEVELS, SCENARIO_CAPTURE_PHASES, scenarioSchema, scenarioInputSchema, resolveScenario, describeScenario, scenarioName, scenarioKey, deviceKey, isScenarioPreset,
  type Scenario, type ScenarioInput, type ScenarioPreset, type Knowledge,
} from './scenario.js';
export { scenarioTraffic, scenarioKnowledge, surrogateModel, weightsKey, activationRms, calibration, type ScenarioTraffic, type WindowSampling } from './traffic.js';
export { referenceWindows, decodeReferences, labelAgreement, scoredCapture, ReferenceMismatchError, type ReferenceData, type GenerationReference, type WindowSettings, type ScoredCapture } from './references.js';
export { checkTextSet, loadTextSet, textSetSchema, type TextSetSpec } from './texts.js';
export { silent, slice, WorkCounter, type ProgressEvent, type ProgressSink } from './progress.js';

/** Runs fn on a fresh context and disposes it. */
export async function withContext<T>(spec: ContextSpec, fn: (ctx: ExperimentContext) => Promise<T>): Promise<T> {
  const ctx = createContext(spec);
  try {
    return await fn(ctx);
  } finally {
    ctx.dispose();
  }
}

/** Every attack at every split point (see runSweep). */
export function attackSweep(o: ContextSpec & SweepOptions): Promise<SweepResult> {
  return withContext(o, (ctx) => runSweep(ctx, o));
}

/** The privacy–utility curve of one defense (see runTradeoff); victim text is held out for utility. */
export function tradeoff(o: ContextSpec & TradeoffOptions): Promise<TradeoffResult> {
  return withContext({ ...o, holdOut: true }, (ctx) => runTradeoff(ctx, o));
}

/** One attack, trained and scored (see runAttack). */
export function attack<N extends AttackName>(o: ContextSpec & RunAttackOptions<N>): Promise<RunAttackResult> {
  return withContext(o, (ctx) => runAttack(ctx, o));
}
export { hiddenFromCapture, type CaptureHiddenOptions } from './capture_hidden.js';

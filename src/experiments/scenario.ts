// The scenario every figure carries: how the victim's device is personalized (the seed's setting: it
// fine-tunes private adapters the server never sees), what the attacker knows of the device's
// weights, the precision of the wire, which traffic the server reads, and the defense on the device.
import { z } from 'zod';
import { LORA_TARGETS } from '../models/index.js';
import { DEFENSE_NAMES, type DefenseName } from '../defenses/index.js';
import { FLOAT_WIRE_DTYPES, type FloatWireDType } from '../split/protocol/dtypes.js';
import { UsageError } from '../util/errors.js';
import { DEFAULT_PERSONALIZATION, PERSONALIZE_MODES, type Personalization } from './personalize.js';
import { describeIssue } from '../util/schema_issue.js';

/**
 * What the attacker knows of the device part: `exact` — the victim's own weights (its private
 * adapters included); `pretrained` — the public pretrained device part (the server serves the rest of
 * that model); `architecture` — the architecture and tokenizer only, no weights.
 */
export const KNOWLEDGE_LEVELS = ['exact', 'pretrained', 'architecture'] as const;
export type Knowledge = (typeof KNOWLEDGE_LEVELS)[number];

/** `after`: windows the device sends once fine-tuned; `training`: the windows along the fine-tuning. */
export const SCENARIO_CAPTURE_PHASES = ['after', 'training'] as const;

export const scenarioSchema = z.object({
  personalize: z.object({
    mode: z.enum(PERSONALIZE_MODES),
    steps: z.number().int().nonnegative(),
    lr: z.number().nonnegative(),
    rank: z.number().int().positive(),
    targets: z.array(z.enum(LORA_TARGETS as unknown as [string, ...string[]])).min(1).readonly(),
    seed: z.number().int().nonnegative(),
  }),
  knowledge: z.enum(KNOWLEDGE_LEVELS),
  wireDtype: z.enum(FLOAT_WIRE_DTYPES),
  capturePhase: z.enum(SCENARIO_CAPTURE_PHASES),
  defense: z.object({ name: z.enum(DEFENSE_NAMES as [DefenseName, ...DefenseName[]]), level: z.number().nonnegative() }).nullable(),
});

export type Scenario = z.infer<typeof scenarioSchema>;

/** A scenario given in part (a config file's entry): what is left out takes resolveScenario's defaults. */
export const scenarioInputSchema = z.object({
  personalize: scenarioSchema.shape.personalize.partial().strict().optional(),
  knowledge: scenarioSchema.shape.knowledge.optional(),
  wireDtype: scenarioSchema.shape.wireDtype.optional(),
  capturePhase: scenarioSchema.shape.capturePhase.optional(),
  defense: scenarioSchema.shape.defense.optional(),
}).strict();
export type ScenarioInput = z.infer<typeof scenarioInputSchema>;

const NONE: Personalization = { ...DEFAULT_PERSONALIZATION, mode: 'none', steps: 0 };
/** Full fine-tuning moves every weight, so it runs shorter and slower than LoRA by default. */
const FULL_DEFAULTS: Personalization = { ...DEFAULT_PERSONALIZATION, mode: 'full', steps: 300, lr: 1e-4 };

/** The named scenarios: the saturated one a server with the device's exact weights sees, and the seed's. */
export const SCENARIO_PRESETS = {
  /** The device runs the pretrained part and the server holds exactly those weights. */
  exact: { personalize: NONE, knowledge: 'exact', wireDtype: 'float32', capturePhase: 'after', defense: null },
  /** The device fine-tuned private LoRA adapters (r8 on q,v, lr 1e-3, 1000 steps); the server holds the pretrained part; float16 wire. */
  personalized: { personalize: { ...DEFAULT_PERSONALIZATION }, knowledge: 'pretrained', wireDtype: 'float16', capturePhase: 'after', defense: null },
  /** The harder settings of the seed's scenario. Presets, so that one sweep runs them side by side and
   *  trains its attackers once for all of them (attackers are shared by scenarios with the same knowledge). */
  /** LoRA r8 on every projection (q, k, v, o, gate, up, down), 1000 steps, lr 1e-3. */
  'lora-all': { personalize: { ...DEFAULT_PERSONALIZATION, targets: [...LORA_TARGETS] }, knowledge: 'pretrained', wireDtype: 'float16', capturePhase: 'after', defense: null },
  /** Every device weight fine-tuned, 300 steps, lr 1e-4. */
  full: { personalize: FULL_DEFAULTS, knowledge: 'pretrained', wireDtype: 'float16', capturePhase: 'after', defense: null },
  /** The seed's device; the server knows the architecture only (attacks that need weights are not applicable). */
  architecture: { personalize: { ...DEFAULT_PERSONALIZATION }, knowledge: 'architecture', wireDtype: 'float16', capturePhase: 'after', defense: null },
} as const satisfies Record<string, Scenario>;

export type ScenarioPreset = keyof typeof SCENARIO_PRESETS;
export const DEFAULT_SCENARIOS: ScenarioPreset[] = ['exact', 'personalized'];

export function isScenarioPreset(s: string): s is ScenarioPreset {
  return Object.prototype.hasOwnProperty.call(SCENARIO_PRESETS, s);
}

/**
 * A full scenario from partial settings. Knowledge defaults to `pretrained` whenever the device is
 * personalized (the server never sees the private adapters), `exact` otherwise.
 */
export function resolveScenario(s: ScenarioInput = {}, where = 'scenario'): Scenario {
  const mode = s.personalize?.mode ?? 'none';
  const personalize = { ...NONE, ...(mode === 'none' ? {} : mode === 'full' ? FULL_DEFAULTS : DEFAULT_PERSONALIZATION), ...s.personalize };
  if (personalize.mode === 'none') personalize.steps = 0;
  const raw = {
    personalize,
    knowledge: s.knowledge ?? (personalize.mode === 'none' ? 'exact' : 'pretrained'),
    wireDtype: s.wireDtype ?? 'float32',
    capturePhase: s.capturePhase ?? 'after',
    defense: s.defense ?? null,
  };
  const r = scenarioSchema.safeParse(raw);
  if (!r.success) {
    throw new UsageError(`${where}: ${describeIssue(r.error)}`, `personalize modes: ${PERSONALIZE_MODES.join(', ')}; knowledge: ${KNOWLEDGE_LEVELS.join(', ')}; wire dtypes: ${FLOAT_WIRE_DTYPES.join(', ')}`);
  }
  const out = r.data;
  if (out.capturePhase === 'training' && out.personalize.mode === 'none') {
    throw new UsageError(`${where}: capture phase 'training' needs a personalized device`, 'add --personalize lora (or full), or capture after fine-tuning');
  }
  return out;
}

/** One line a reader can act on, e.g. "personalized: LoRA r8 q,v, 1000 steps lr 1e-3 · attacker knows the pretrained part · float16 wire". */
export function describeScenario(s: Scenario): string {
  const p = s.personalize;
  const device = p.mode === 'none' ? 'pretrained device' : p.mode === 'lora'
    ? `device LoRA r${p.rank} ${p.targets.join(',')}, ${p.steps} steps lr ${p.lr}`
    : `device fully fine-tuned, ${p.steps} steps lr ${p.lr}`;
  const knows = { exact: "attacker knows the device's exact weights", pretrained: 'attacker knows the pretrained device part', architecture: 'attacker knows the architecture only' }[s.knowledge];
  const parts = [device, knows, `${s.wireDtype} wire`];
  if (s.capturePhase === 'training') parts.push('traffic along the fine-tuning');
  if (s.defense) parts.push(`defense ${s.defense.name} ${s.defense.level}`);
  return parts.join(' · ');
}

/** The name a scenario is reported under: its preset's, or a short label of its settings. */
export function scenarioName(s: Scenario): string {
  for (const [name, preset] of Object.entries(SCENARIO_PRESETS)) if (sameScenario(s, preset)) return name;
  const p = s.personalize;
  return [p.mode === 'none' ? 'pretrained-device' : `${p.mode}-${p.steps}`, s.knowledge, s.wireDtype, ...(s.capturePhase === 'training' ? ['training'] : []), ...(s.defense ? [`${s.defense.name}-${s.defense.level}`] : [])].join('/');
}

/** Scenarios are equal when every setting is (the key of the context's caches). */
export function scenarioKey(s: Scenario): string {
  const p = s.personalize;
  const device = p.mode === 'none' ? 'none' : [p.mode, p.steps, p.lr, p.rank, [...p.targets].sort().join('+'), p.seed].join(':');
  return [device, s.knowledge, s.wireDtype, s.capturePhase, s.defense ? `${s.defense.name}:${s.defense.level}` : '-'].join('|');
}

export function sameScenario(a: Scenario, b: Scenario): boolean {
  return scenarioKey(a) === scenarioKey(b);
}

/** The device-side settings only: scenarios that share them share the victim's traffic. */
export function deviceKey(s: Scenario): string {
  const [device, , wire, phase, defense] = scenarioKey(s).split('|');
  return [device, wire, phase, defense].join('|');
}

export type { FloatWireDType };

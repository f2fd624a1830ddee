// The audit's configuration: validated at the edge, written beside the report so a run can be
// repeated exactly with `revertlm audit --config DIR/config.json`.
import { z } from 'zod';
import { ACTIVATION_ATTACK_NAMES, type AttackName } from '../attacks/registry.js';
import type { SweepOptions } from '../experiments/sweep.js';
import { DEFENSE_NAMES, LEVEL_MEANING, type DefenseName } from '../defenses/index.js';
import { DEFAULT_THRESHOLDS } from '../report/summary.js';
import { UsageError } from '../util/errors.js';
import type { Scenario } from '../experiments/scenario.js';
import { textSetSchema, type TextSetSpec } from '../experiments/texts.js';
import { SCENARIO_PRESETS, isScenarioPreset, resolveScenario, scenarioInputSchema } from '../experiments/scenario.js';
import { describeIssue } from '../util/schema_issue.js';

/**
 * Levels tried when a defense is named without levels: level 0 (no defense, the utility baseline)
 * and three of increasing strength. Defenses whose scale depends on the model have none.
 */
export const DEFAULT_LEVELS: Partial<Record<DefenseName, number[]>> = {
  gaussian: [0, 1, 2, 4],
  topk: [0, 0.5, 0.75, 0.9],
  dropout: [0, 0.25, 0.5, 0.75],
  quantize: [0, 8, 4, 2],
};

/** The defense an audit tries when none is given: without one there is nothing to recommend. */
export const DEFAULT_DEFENSES = [{ name: 'gaussian' as const, levels: DEFAULT_LEVELS.gaussian! }];

const unit = z.number().min(0).max(1);
const size = z.number().int().positive();
/** Width and depth of one of an attack's networks (heads must divide d: checked when it is built). */
const networkSize = z.object({ d: size, layers: size, heads: size, ff: size }).partial().strict();

/** A named scenario (see SCENARIO_PRESETS), or its settings (those left out take their defaults). */
const scenarioEntry = z.union([
  z.string().refine(isScenarioPreset, { error: `not a named scenario (${Object.keys(SCENARIO_PRESETS).join(', ')}); or give its settings as an object` }),
  scenarioInputSchema,
]);

/** A text set: its source alone ("spamassassin:easy-ham-2", "data.txt"), or the source and its format options. */
const textSetEntry = z.union([z.string().min(1).transform((source): TextSetSpec => ({ source })), textSetSchema]);

const defenseEntry = z
  .object({
    name: z.enum(DEFENSE_NAMES as [string, ...string[]]),
    /** Default: DEFAULT_LEVELS of the defense. */
    levels: z.array(z.number().nonnegative()).min(1).optional(),
    split: z.number().int().positive().optional(),
    /** The scenario the curve runs in (default: the last of `scenarios`). */
    scenario: scenarioEntry.optional(),
  })
  .strict()
  .transform((d, ctx) => {
    const name = d.name as DefenseName;
    const levels = d.levels ?? DEFAULT_LEVELS[name];
    if (!levels) {
      ctx.addIssue({ code: 'custom', message: `${name} has no default levels (${LEVEL_MEANING[name]}): give them, e.g. ${name}:0,…` });
      return z.NEVER;
    }
    return { ...d, levels: levels.includes(0) ? levels : [0, ...levels] };
  });

export const auditConfigSchema = z.object({
  model: z.string().min(1),
  aux: textSetEntry,
  victim: textSetEntry,
  /** Split points to attack (default: defaultSplitPoints — every block boundary up to 6 of them, else five spread over the depth). */
  splits: z.array(z.number().int().nonnegative()).optional(),
  attacks: z.array(z.enum(ACTIVATION_ATTACK_NAMES as [string, ...string[]])).min(1).default(['revertlm', 'sip', 'bisr', 'nn']),
  /** Scenarios side by side (default: the saturated `exact` one and the seed's `personalized` one). */
  scenarios: z.array(scenarioEntry).min(1).default(['exact', 'personalized']),
  /** Trade-off curves (default: DEFAULT_DEFENSES). Level 0, the baseline of the utility cost, is always tried. */
  defenses: z
    .array(defenseEntry)
    .default(DEFAULT_DEFENSES),
  /** Attacks run in the trade-off curves (default: the two strongest of the sweep at the curve's split point). */
  tradeoffAttacks: z.array(z.enum(ACTIVATION_ATTACK_NAMES as [string, ...string[]])).optional(),
  leakage: z.object({ enabled: z.boolean().default(true), tokens: z.number().int().positive().default(2048) }).strict().default({ enabled: true, tokens: 2048 }),
  budget: z
    .object({ examples: z.number().int().positive(), steps: z.number().int().positive(), batchSize: z.number().int().positive(), maxTokens: z.number().int().min(2) })
    .partial()
    .strict()
    .default({}),
  /**
   * Size of RevertLM's trained parts (default: GENERATOR_DEFAULTS / PROJECTOR_DEFAULTS): a smaller
   * attacker for small budgets, as the demo uses; every RevertLM variant of the audit gets it.
   */
  revertlm: z
    .object({ projector: networkSize.optional(), generator: networkSize.extend({ memLayers: z.number().int().nonnegative() }).partial().strict().optional() })
    .strict()
    .optional(),
  /** Split LoRA fine-tuning steps for training-time defenses (NoPeek). */
  finetuneSteps: z.number().int().positive().default(60),
  /** Victim windows scored per attack (a seeded uniform sample of the windows of the victim's text). */
  victimSegments: z.number().int().positive().default(64),
  /** Windows shown per scenario and split point (the most informative: holding PII, then the longest). */
  examples: z.number().int().nonnegative().default(4),
  /** When the report calls text protected (see src/report/summary.ts). */
  thresholds: z.object({
    /** Protected: the strongest attack's ROUGE-L stays below this… */
    rougeL: unit.default(DEFAULT_THRESHOLDS.rougeL),
    /** …and it recovers at most this share of the PII spans. */
    pii: unit.default(DEFAULT_THRESHOLDS.pii),
    /** Red: the strongest attack reaches either of these. */
    red: z.object({ rougeL: unit.default(DEFAULT_THRESHOLDS.red.rougeL), pii: unit.default(DEFAULT_THRESHOLDS.red.pii) }).strict().prefault({}),
  }).strict().prefault({}),
  seed: z.number().int().nonnegative().default(0),
}).strict();

export type AuditConfig = z.infer<typeof auditConfigSchema>;
export type AuditConfigInput = z.input<typeof auditConfigSchema>;

export function parseAuditConfig(raw: unknown, where = 'audit configuration'): AuditConfig {
  const r = auditConfigSchema.safeParse(raw);
  if (!r.success) {
    throw new UsageError(
      `${where}: ${describeIssue(r.error)}`,
      'check the option values (attack names: ' + ACTIVATION_ATTACK_NAMES.join(', ') + '; defenses: ' + DEFENSE_NAMES.join(', ') + ')',
    );
  }
  return r.data;
}

/** A scenario entry of the config as the full scenario it names. */
export function auditScenario(e: AuditConfig['scenarios'][number]): Scenario {
  return typeof e === 'string' ? resolveScenario(SCENARIO_PRESETS[e as keyof typeof SCENARIO_PRESETS], e) : resolveScenario(e);
}

/** The audit's RevertLM sizes as per-attack configurations for every RevertLM variant (none: defaults). */
export function revertlmConfigs(sizes: AuditConfig['revertlm']): SweepOptions['configs'] {
  if (!sizes) return undefined;
  const names = ACTIVATION_ATTACK_NAMES.filter((n): n is Extract<AttackName, `revertlm${string}`> => n.startsWith('revertlm'));
  return Object.fromEntries(names.map((n) => [n, { ...sizes }]));
}

// The audit's configuration: validated at the edge, written beside the report so a run can be
// repeated exactly with `revertlm audit --config DIR/config.json`.
import { z } from 'zod';
import { ACTIVATION_ATTACK_NAMES } from '../attacks/registry.js';
import { DEFENSE_NAMES } from '../defenses/registry.js';
import { UsageError } from '../util/errors.js';
import type { Scenario } from '../experiments/scenario.js';
import { textSetSchema } from '../experiments/texts.js';
import { SCENARIO_PRESETS, resolveScenario, scenarioSchema } from '../experiments/scenario.js';

/** A named scenario (see SCENARIO_PRESETS) or every setting of one. */
const scenarioEntry = z.union([z.enum(Object.keys(SCENARIO_PRESETS) as [string, ...string[]]), scenarioSchema]);

export const auditConfigSchema = z.object({
  model: z.string().min(1),
  aux: textSetSchema,
  victim: textSetSchema,
  /** Split points to attack (default: every block boundary 1..L-1, or L for one-block models). */
  splits: z.array(z.number().int().nonnegative()).optional(),
  attacks: z.array(z.enum(ACTIVATION_ATTACK_NAMES as [string, ...string[]])).min(1).default(['revertlm', 'sip', 'bisr', 'nn']),
  /** Scenarios side by side (default: the saturated `exact` one and the seed's `personalized` one). */
  scenarios: z.array(scenarioEntry).min(1).default(['exact', 'personalized']),
  defenses: z
    .array(z.object({
      name: z.enum(DEFENSE_NAMES as [string, ...string[]]), levels: z.array(z.number().nonnegative()).min(1), split: z.number().int().positive().optional(),
      /** The scenario the curve runs in (default: the last of `scenarios`). */
      scenario: scenarioEntry.optional(),
    }))
    .default([]),
  /** Attacks run in the trade-off curves (default: the first two of `attacks`). */
  tradeoffAttacks: z.array(z.enum(ACTIVATION_ATTACK_NAMES as [string, ...string[]])).optional(),
  leakage: z.object({ enabled: z.boolean().default(true), tokens: z.number().int().positive().default(2048) }).default({ enabled: true, tokens: 2048 }),
  budget: z
    .object({ examples: z.number().int().positive(), steps: z.number().int().positive(), batchSize: z.number().int().positive(), maxTokens: z.number().int().min(2) })
    .partial()
    .default({}),
  /** Split LoRA fine-tuning steps for training-time defenses (NoPeek). */
  finetuneSteps: z.number().int().positive().default(60),
  /** Victim windows scored per attack (a seeded uniform sample of the windows of the victim's text). */
  victimSegments: z.number().int().positive().default(64),
  examples: z.number().int().nonnegative().default(4),
  seed: z.number().int().nonnegative().default(0),
});

export type AuditConfig = z.infer<typeof auditConfigSchema>;
export type AuditConfigInput = z.input<typeof auditConfigSchema>;

export function parseAuditConfig(raw: unknown, where = 'audit configuration'): AuditConfig {
  const r = auditConfigSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0]!;
    throw new UsageError(
      `${where}: ${first.path.join('.') || '(root)'}: ${first.message}`,
      'check the option values (attack names: ' + ACTIVATION_ATTACK_NAMES.join(', ') + '; defenses: ' + DEFENSE_NAMES.join(', ') + ')',
    );
  }
  return r.data;
}

/** A scenario entry of the config as the full scenario it names. */
export function auditScenario(e: AuditConfig['scenarios'][number]): Scenario {
  return typeof e === 'string' ? resolveScenario(SCENARIO_PRESETS[e as keyof typeof SCENARIO_PRESETS], e) : resolveScenario(e);
}

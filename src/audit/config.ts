// The audit's configuration: validated at the edge, written beside the report so a run can be
// repeated exactly with `revertlm audit --config DIR/config.json`.
import { z } from 'zod';
import { ACTIVATION_ATTACK_NAMES } from '../attacks/registry.js';
import { DEFENSE_NAMES } from '../defenses/registry.js';
import { UsageError } from '../cli/errors.js';

const textSource = z.object({
  /** A file (.txt lines/paragraphs, .jsonl, .json, .csv, .tsv) or `spamassassin:<group>`. */
  source: z.string().min(1),
  field: z.string().optional(),
  /** Force a format (lines, paragraphs, separated, jsonl, json, csv, tsv); default: from the extension. */
  format: z.string().optional(),
  /** With format 'separated': the separator, e.g. <|endoftext|>. */
  separator: z.string().optional(),
  column: z.union([z.string(), z.number().int()]).optional(),
  /** Samples to use at most. */
  limit: z.number().int().positive().optional(),
});

export const auditConfigSchema = z.object({
  model: z.string().min(1),
  aux: textSource,
  victim: textSource,
  /** Split points to attack (default: every block boundary 1..L-1, or L for one-block models). */
  splits: z.array(z.number().int().nonnegative()).optional(),
  attacks: z.array(z.enum(ACTIVATION_ATTACK_NAMES as [string, ...string[]])).min(1).default(['revertlm', 'sip', 'bisr', 'nn']),
  defenses: z
    .array(z.object({ name: z.enum(DEFENSE_NAMES as [string, ...string[]]), levels: z.array(z.number().nonnegative()).min(1), split: z.number().int().positive().optional() }))
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
  /** Victim segments scored per attack. */
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

/** "gaussian:0,0.5,1@2" → {name, levels, split}. */
export function parseDefenseArg(s: string): { name: string; levels: number[]; split?: number } {
  const m = /^([a-z]+):([0-9.,\s]+)(?:@(\d+))?$/.exec(s.trim());
  if (!m) throw new UsageError(`cannot read defense '${s}'`, 'write NAME:LEVEL,LEVEL,...[@SPLIT], e.g. gaussian:0,0.5,1@2');
  const levels = m[2]!.split(',').filter((x) => x.trim() !== '').map(Number);
  if (levels.some((x) => !Number.isFinite(x))) throw new UsageError(`defense '${s}' has a level that is not a number`);
  return { name: m[1]!, levels, ...(m[3] ? { split: Number(m[3]) } : {}) };
}

/** "1..4" or "1,3,5" → [1,2,3,4] / [1,3,5]. */
export function parseIntList(s: string, what: string): number[] {
  const range = /^(\d+)\.\.(\d+)$/.exec(s.trim());
  if (range) {
    const a = Number(range[1]), b = Number(range[2]);
    if (a > b) throw new UsageError(`${what} range '${s}' is empty`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  const xs = s.split(',').map((x) => Number(x.trim()));
  if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 0)) throw new UsageError(`${what} '${s}' is not a list of integers`, `write e.g. 1,2,3 or 1..4`);
  return xs;
}

// The flags every experiment command shares (text sets, victim sample, budget, seed) and how they
// become an experiment context spec.
import type { Command } from 'commander';
import {
  FLOAT_WIRE_DTYPES, KNOWLEDGE_LEVELS, LORA_TARGETS, PERSONALIZE_MODES, SCENARIO_CAPTURE_PHASES, SCENARIO_PRESETS, UsageError, createContext, isScenarioPreset, resolveScenario,
  type BudgetSpec, type ContextSpec, type ExperimentContext, type ProgressSink, type Scenario, type ScenarioPreset, type TextSetSpec,
} from '../../index.js';
import { choiceFlag, choiceListFlag, intFlag, numberFlag, parseNumberList } from '../flags.js';
import { note } from '../output.js';

export interface TextFlags {
  aux?: string;
  victim?: string;
  field?: string;
  column?: string;
  format?: string;
  separator?: string;
  auxField?: string;
  auxColumn?: string;
  auxFormat?: string;
  auxSeparator?: string;
  auxNoHeader?: boolean;
  victimField?: string;
  victimColumn?: string;
  victimFormat?: string;
  victimSeparator?: string;
  victimNoHeader?: boolean;
}

export interface BudgetFlags {
  steps?: string;
  examples?: string;
  batchSize?: string;
  maxTokens?: string;
}

export interface ExperimentFlags extends TextFlags, BudgetFlags {
  model: string;
  victimSegments?: string;
  seed?: string;
}

/** Text-format options of --aux/--victim: each for both sets, and per set (the attacker's e-mail corpus beside a victim TSV). */
export function addTextOptions(cmd: Command): Command {
  return cmd
    .option('--field <path>', 'JSON(L) field holding the text')
    .option('--column <name>', 'CSV/TSV column holding the text (a name, or a 0-based index for files without a header)')
    .option('--format <format>', 'text format of both sets (lines, paragraphs, jsonl, json, csv, tsv); default: from the extension')
    .option('--separator <text>', 'plain text of both sets split into documents on this string, e.g. "<|endoftext|>"')
    .option('--aux-field <path>', 'the aux set only: JSON(L) field')
    .option('--aux-column <name>', 'the aux set only: CSV/TSV column')
    .option('--aux-format <format>', 'the aux set only: text format')
    .option('--aux-separator <text>', 'the aux set only: document separator')
    .option('--aux-no-header', 'the aux set only: its CSV/TSV file has no header row (the first row is data)')
    .option('--victim-field <path>', 'the victim set only: JSON(L) field (DialogSum: dialogue)')
    .option('--victim-column <name>', 'the victim set only: CSV/TSV column (SMS Spam Collection: 1)')
    .option('--victim-format <format>', 'the victim set only: text format')
    .option('--victim-separator <text>', 'the victim set only: document separator (TinyStories: "<|endoftext|>")')
    .option('--victim-no-header', 'the victim set only: its CSV/TSV file has no header row (SMS Spam Collection)');
}

/** The attack training budget options shared by attack, attack-sweep and tradeoff. */
export function addBudgetOptions(cmd: Command): Command {
  return cmd
    .option('--steps <n>', 'optimiser steps per attack, summed over its trained parts (default: each attack\'s own)')
    .option('--examples <n>', 'auxiliary training sequences')
    .option('--batch-size <n>', 'sequences per step')
    .option('--max-tokens <n>', 'tokens per sequence, BOS included (default 32)');
}

export function budgetFlags(f: BudgetFlags): Partial<BudgetSpec> {
  return {
    ...(f.steps ? { steps: intFlag(f.steps, '--steps', 1) } : {}),
    ...(f.examples ? { examples: intFlag(f.examples, '--examples', 1) } : {}),
    ...(f.batchSize ? { batchSize: intFlag(f.batchSize, '--batch-size', 1) } : {}),
    ...(f.maxTokens ? { maxTokens: intFlag(f.maxTokens, '--max-tokens', 2) } : {}),
  };
}

/** The text set --aux or --victim names, its per-set flags taking precedence over the shared ones. */
export function textSet(f: TextFlags, which: 'aux' | 'victim'): TextSetSpec | null {
  const source = f[which];
  if (!source) return null;
  const own = which === 'aux'
    ? { field: f.auxField, column: f.auxColumn, format: f.auxFormat, separator: f.auxSeparator, noHeader: f.auxNoHeader }
    : { field: f.victimField, column: f.victimColumn, format: f.victimFormat, separator: f.victimSeparator, noHeader: f.victimNoHeader };
  const col = own.column ?? f.column;
  const column = col === undefined ? undefined : /^\d+$/.test(col) ? Number(col) : col;
  const field = own.field ?? f.field;
  const format = own.format ?? f.format;
  const separator = own.separator ?? f.separator;
  return {
    source,
    ...(field !== undefined ? { field } : {}),
    ...(column !== undefined ? { column } : {}),
    ...(format !== undefined ? { format } : {}),
    ...(separator !== undefined ? { separator } : {}),
    ...(own.noHeader ? { header: false } : {}),
  };
}

/** The context spec of an experiment command's flags. */
export function contextSpec(f: ExperimentFlags): ContextSpec {
  const budget = budgetFlags(f);
  return {
    model: f.model,
    aux: textSet(f, 'aux'),
    victim: textSet(f, 'victim'),
    ...(f.victimSegments !== undefined ? { victimSegments: intFlag(f.victimSegments, '--victim-segments', 1) } : {}),
    budget,
    seed: f.seed !== undefined ? intFlag(f.seed, '--seed') : 0,
  };
}

/** The experiment context of a command's flags (`extra` on top), its notes about the text sets told on stderr. */
export function openContext(f: ExperimentFlags, progress: ProgressSink, extra: Partial<ContextSpec> = {}): ExperimentContext {
  const ctx = createContext({ ...contextSpec(f), ...extra, progress });
  for (const n of ctx.notes) note(n);
  return ctx;
}

/** "gaussian:0,0.5,1@2" → {name, levels, split}. */
export function parseDefenseArg(s: string): { name: string; levels: number[]; split?: number } {
  const m = /^([a-z]+):([^@]*)(?:@(\d+))?$/.exec(s.trim());
  if (!m) throw new UsageError(`cannot read defense '${s}'`, 'write NAME:LEVEL,LEVEL,...[@SPLIT], e.g. gaussian:0,0.5,1@2');
  const levels = parseNumberList(`defense '${m[1]}' levels`, m[2]!, { min: 0 });
  return { name: m[1]!, levels, ...(m[3] ? { split: Number(m[3]) } : {}) };
}

export interface ScenarioFlags {
  scenarios?: string;
  personalize?: string;
  personalizeSteps?: string;
  personalizeLr?: string;
  personalizeRank?: string;
  personalizeTargets?: string;
  knowledge?: string;
  wireDtype?: string;
  capturePhase?: string;
}

/** The scenario options of sweep, attack, trade-off and audit. */
export function addScenarioOptions(cmd: Command, defaults: readonly ScenarioPreset[]): Command {
  return cmd
    .option('--scenarios <list>', `named scenarios side by side: ${Object.keys(SCENARIO_PRESETS).join(', ')} (default ${defaults.join(',')})`)
    .option('--personalize <mode>', `one scenario from flags: the victim's device is ${PERSONALIZE_MODES.join(' | ')} (LoRA r8 on q,v, lr 1e-3, 1000 steps by default; full: lr 1e-4, 300 steps)`)
    .option('--personalize-steps <n>', 'device fine-tuning steps on the victim\'s text')
    .option('--personalize-lr <x>', 'device learning rate')
    .option('--personalize-rank <r>', 'rank of the device\'s private LoRA adapters')
    .option('--personalize-targets <list>', 'projections the adapters sit on, e.g. q,v or q,k,v,o,gate,up,down')
    .option('--knowledge <level>', `what the attacker knows of the device: ${KNOWLEDGE_LEVELS.join(' | ')} (default: exact without personalization, pretrained with it)`)
    .option('--wire-dtype <dtype>', 'precision of the hidden states on the wire: float32 | float16 | bfloat16 (default float32)')
    .option('--capture-phase <phase>', 'after (the personalized device\'s traffic, default) | training (the fine-tuning traffic)');
}

/** Whether any flag that builds one scenario (--personalize…, --knowledge, --wire-dtype, --capture-phase) is given. */
export function buildsScenario(f: ScenarioFlags): boolean {
  return (f.personalize ?? f.personalizeSteps ?? f.personalizeLr ?? f.personalizeRank ?? f.personalizeTargets ?? f.knowledge ?? f.wireDtype ?? f.capturePhase) !== undefined;
}

/** The scenarios the flags ask for: one built from the scenario flags, else the named ones. */
export function scenariosFrom(f: ScenarioFlags, defaults: readonly ScenarioPreset[]): Scenario[] {
  if (buildsScenario(f)) {
    if (f.scenarios) throw new UsageError('--scenarios names preset scenarios; the --personalize/--knowledge/--wire-dtype/--capture-phase flags build one', 'use one or the other');
    const num = (flag: string, v: string | undefined) => numberFlag(flag, v, { min: 0 });
    const p = {
      ...(f.personalize ? { mode: choiceFlag('--personalize', f.personalize, PERSONALIZE_MODES, 'lora') } : f.personalizeSteps || f.personalizeLr || f.personalizeRank || f.personalizeTargets ? { mode: 'lora' as const } : {}),
      ...(f.personalizeSteps !== undefined ? { steps: intFlag(f.personalizeSteps, '--personalize-steps') } : {}),
      ...(f.personalizeLr !== undefined ? { lr: num('--personalize-lr', f.personalizeLr) } : {}),
      ...(f.personalizeRank !== undefined ? { rank: intFlag(f.personalizeRank, '--personalize-rank', 1) } : {}),
      ...(f.personalizeTargets !== undefined ? { targets: choiceListFlag('--personalize-targets', f.personalizeTargets, LORA_TARGETS, 'q,v') } : {}),
    };
    return [resolveScenario({
      personalize: p,
      ...(f.knowledge ? { knowledge: choiceFlag('--knowledge', f.knowledge, KNOWLEDGE_LEVELS, 'pretrained') } : {}),
      ...(f.wireDtype ? { wireDtype: choiceFlag('--wire-dtype', f.wireDtype, FLOAT_WIRE_DTYPES, 'float16') } : {}),
      ...(f.capturePhase ? { capturePhase: choiceFlag('--capture-phase', f.capturePhase, SCENARIO_CAPTURE_PHASES, 'training') } : {}),
    }, 'scenario flags')];
  }
  const names = f.scenarios ? f.scenarios.split(',').map((s) => s.trim()).filter(Boolean) : [...defaults];
  return names.map((n) => {
    if (!isScenarioPreset(n)) throw new UsageError(`unknown scenario '${n}'`, `choose from ${Object.keys(SCENARIO_PRESETS).join(', ')}, or build one with --personalize/--knowledge/--wire-dtype`);
    return resolveScenario(SCENARIO_PRESETS[n], n);
  });
}

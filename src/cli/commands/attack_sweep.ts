import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadModel, loadTokenizer, splitModel } from '../../models/index.js';
import { ACTIVATION_ATTACK_NAMES, attackSweep, isAttackName, victimSegments, type AttackName, type SweepResult } from '../../attacks/index.js';
import { loadAuditTexts } from '../../audit/texts.js';
import { parseIntList } from '../../audit/config.js';
import { UsageError } from '../errors.js';
import { printJson } from '../output.js';
import { overallProgress } from '../progress.js';
import { addBudgetOptions, budgetFlags, type BudgetFlags } from './budget_flags.js';

export const DEFAULT_SWEEP_ATTACKS: AttackName[] = ['revertlm', 'sip', 'bisr', 'opt', 'nn'];

interface SweepFlags extends BudgetFlags {
  model: string;
  aux: string;
  victim: string;
  splits?: string;
  attacks?: string;
  field?: string;
  column?: string;
  format?: string;
  victimFormat?: string;
  victimSegments: string;
  seed?: string;
  json?: boolean;
}

const fmt = (x: number | null) => (x === null ? '  –  ' : x.toFixed(3));

/** Rows: split points; columns: attacks; cells: ROUGE-L / PII. Then each attack's budget. */
export function formatSweep(r: SweepResult): string {
  const names = Object.keys(r.splits[0]?.attacks ?? {});
  const w = Math.max(14, ...names.map((n) => n.length + 2));
  const lines = [`${'k'.padEnd(4)}${names.map((n) => n.padEnd(w)).join('')}`, `${''.padEnd(4)}${names.map(() => 'ROUGE-L / PII'.padEnd(w)).join('')}`];
  for (const s of r.splits) lines.push(`${String(s.split).padEnd(4)}${names.map((n) => `${fmt(s.attacks[n]!.rougeL)} / ${fmt(s.attacks[n]!.pii)}`.padEnd(w)).join('')}`);
  lines.push('', 'budgets (training examples, steps, parameters, seconds):');
  for (const s of r.splits) {
    for (const n of names) {
      const b = s.attacks[n]!.budget;
      lines.push(`  k=${s.split} ${n.padEnd(w)} ${b.examples} ex, ${b.steps} steps, ${b.parameters} params, ${b.seconds.toFixed(1)} s`);
    }
  }
  return lines.join('\n');
}

export function registerAttackSweep(program: Command): void {
  const cmd = program
    .command('attack-sweep')
    .description('run every attack at every split point (trained on --aux, scored on --victim) and print a table')
    .requiredOption('--model <dir>', 'Hugging Face model directory')
    .requiredOption('--aux <source>', "attacker's auxiliary text")
    .requiredOption('--victim <source>', "victim's text")
    .option('--splits <list>', 'split points, e.g. 1..4 or 1,3 (default: 1..L-1)')
    .option('--attacks <list>', `attacks (default ${DEFAULT_SWEEP_ATTACKS.join(',')}; all: ${ACTIVATION_ATTACK_NAMES.join(',')})`)
    .option('--field <path>', 'JSON(L) field holding the text')
    .option('--column <name>', 'CSV/TSV column holding the text')
    .option('--format <format>', 'text format of both sets (lines, paragraphs, jsonl, json, csv, tsv); default: from the extension')
    .option('--victim-format <format>', 'text format of the victim set only')
    .option('--victim-segments <n>', 'victim sequences scored per attack', '64')
    .option('--seed <n>', 'seed (default 0)')
    .option('--json', 'print one JSON object');
  addBudgetOptions(cmd);
  cmd.action(async (f: SweepFlags) => {
    const attacks = (f.attacks ? f.attacks.split(',').map((s) => s.trim()) : DEFAULT_SWEEP_ATTACKS) as string[];
    for (const a of attacks) {
      if (!isAttackName(a)) throw new UsageError(`unknown attack '${a}'`, `choose from: ${ACTIVATION_ATTACK_NAMES.join(', ')}`);
      if (!ACTIVATION_ATTACK_NAMES.includes(a)) throw new UsageError(`attack '${a}' reads U-shape fine-tuning traffic, which a sweep's simulated captures do not have`, `run it on a server capture: revertlm attack --capture DIR --attack ${a}`);
    }
    const aux = loadAuditTexts('aux', { source: f.aux, field: f.field, column: f.column, format: f.format });
    const victim = loadAuditTexts('victim', { source: f.victim, field: f.field, column: f.column, format: f.victimFormat ?? f.format });
    const model = loadModel(resolve(f.model));
    const tokenizer = loadTokenizer(resolve(f.model));
    try {
      const L = model.config.nLayers;
      const splits = f.splits ? parseIntList(f.splits, '--splits') : Array.from({ length: Math.max(1, L - 1) }, (_, i) => i + 1);
      for (const k of splits) if (k < 1 || k > L) throw new UsageError(`split ${k} is outside 1..${L} for this model`);
      const budget = budgetFlags(f);
      const segments = Number(f.victimSegments);
      const total = splits.length * attacks.length;
      let done = 0;
      const progress = overallProgress('sweep');
      let result: SweepResult;
      try {
        result = await attackSweep({
          splits, attacks: attacks as AttackName[], devicePart: (k) => splitModel(model, k).device, tokenizer, lm: model,
          auxTexts: aux, victimTexts: victimSegments(victim, tokenizer, { maxTokens: budget.maxTokens ?? 32 }).slice(0, segments), budget, seed: Number(f.seed ?? 0), maxTokens: budget.maxTokens ?? 32,
          onProgress: (p) => progress.update({ part: `k=${p.split} ${p.attack}`, fraction: (done + p.step / Math.max(1, p.totalSteps)) / total, detail: `${p.phase} loss ${p.loss.toFixed(3)}` }),
          onResult: () => void done++,
        });
      } finally {
        progress.stop();
      }
      if (f.json) return printJson(result);
      process.stdout.write(`${formatSweep(result)}\n`);
    } finally {
      model.dispose();
    }
  });
}

import type { Command } from 'commander';
import { ACTIVATION_ATTACK_NAMES, UsageError, assertRunsOnActivations, createContext, defaultSplitPoints, isAttackName, runSweep, type AttackName, type SweepResult } from '../../index.js';
import { printJson } from '../output.js';
import { overallProgress } from '../progress.js';
import { addBudgetOptions, addTextOptions, contextSpec, parseIntList, type ExperimentFlags } from './experiment_flags.js';

export const DEFAULT_SWEEP_ATTACKS: AttackName[] = ['revertlm', 'sip', 'bisr', 'opt', 'nn'];

interface SweepFlags extends ExperimentFlags {
  splits?: string;
  attacks?: string;
  json?: boolean;
}

const fmt = (x: number | null) => (x === null ? '  –  ' : x.toFixed(3));

/** Rows: split points; columns: attacks; cells: ROUGE-L / PII. Then each attack's budget. */
export function formatSweep(r: SweepResult): string {
  const names = Object.keys(r.splits[0]?.attacks ?? {});
  const w = Math.max(14, ...names.map((n) => n.length + 2));
  const lines = [
    `victim: ${r.victim.segments} of ${r.victim.of} segments (${r.victim.method}, seed ${r.victim.seed}, ≤ ${r.victim.maxTokens} tokens)`,
    `${'k'.padEnd(4)}${names.map((n) => n.padEnd(w)).join('')}`,
    `${''.padEnd(4)}${names.map(() => 'ROUGE-L / PII'.padEnd(w)).join('')}`,
  ];
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

/** Attack names from a comma list, refusing unknown ones and those a simulated capture cannot feed. */
export function activationAttacks(list: string | undefined, fallback: AttackName[]): AttackName[] {
  const names = list ? list.split(',').map((s) => s.trim()) : fallback;
  for (const a of names) {
    if (!isAttackName(a)) throw new UsageError(`unknown attack '${a}'`, `choose from: ${ACTIVATION_ATTACK_NAMES.join(', ')}`);
    assertRunsOnActivations(a);
  }
  return names as AttackName[];
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
    .option('--victim-segments <n>', 'victim segments scored per attack (a seeded sample across the victim set)', '64')
    .option('--seed <n>', 'seed (default 0)')
    .option('--json', 'print one JSON object');
  addTextOptions(cmd);
  addBudgetOptions(cmd);
  cmd.action(async (f: SweepFlags) => {
    const attacks = activationAttacks(f.attacks, DEFAULT_SWEEP_ATTACKS);
    const progress = overallProgress('sweep');
    const ctx = createContext({ ...contextSpec(f), progress: (p) => progress.update(p) });
    let result: SweepResult;
    try {
      const splitPoints = f.splits ? parseIntList(f.splits, '--splits') : defaultSplitPoints(ctx.model.config.nLayers);
      result = await runSweep(ctx, { splitPoints, attacks });
    } finally {
      progress.stop();
      ctx.dispose();
    }
    if (f.json) return printJson(result);
    process.stdout.write(`${formatSweep(result)}\n`);
  });
}

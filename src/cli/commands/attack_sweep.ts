import type { Command } from 'commander';
import { ACTIVATION_ATTACK_NAMES, DEFAULT_SCENARIOS, UsageError, assertRunsOnActivations, defaultSplitPoints, isAttackName, nearCopyNote, runSweep, sweepJson, type AttackName, type SweepResult } from '../../index.js';
import { printJson } from '../output.js';
import { overallProgress } from '../progress.js';
import { addBudgetOptions, addScenarioOptions, addTextOptions, openContext, scenariosFrom, type ExperimentFlags, type ScenarioFlags } from './experiment_flags.js';
import { parseIntList } from '../flags.js';

export const DEFAULT_SWEEP_ATTACKS: AttackName[] = ['revertlm', 'sip', 'bisr', 'opt', 'nn'];

interface SweepFlags extends ExperimentFlags, ScenarioFlags {
  splits?: string;
  attacks?: string;
  json?: boolean;
}

const fmt = (x: number | null) => (x === null ? '  –  ' : x.toFixed(3));

/** Per scenario: rows are split points (with the drift), columns attacks, cells ROUGE-L / exact windows / PII. Then budgets. */
export function formatSweep(r: SweepResult): string {
  const lines: string[] = [];
  for (const sc of r.scenarios) {
    const names = [...new Set(sc.splits.flatMap((s) => [...Object.keys(s.attacks), ...Object.keys(s.not_applicable ?? {})]))];
    const w = Math.max(24, ...names.map((n) => n.length + 2));
    lines.push(
      `scenario ${sc.scenario.name}: ${sc.scenario.description}`,
      `victim: ${sc.victim.segments} of ${sc.victim.of} windows of ≤ ${sc.victim.maxTokens} tokens (${sc.victim.method}, seed ${sc.victim.seed})${sc.victim.chance_rougeL === null ? '' : `; chance ROUGE-L ${sc.victim.chance_rougeL.toFixed(3)} (each window against another)`}${nearCopyNote(sc.victim.near_copy_share)}`,
      `${'k'.padEnd(4)}${'drift'.padEnd(8)}${names.map((n) => n.padEnd(w)).join('')}`,
      `${''.padEnd(12)}${names.map(() => 'ROUGE-L / exact / PII'.padEnd(w)).join('')}`,
    );
    for (const s of sc.splits) {
      const cell = (n: string) => {
        const a = s.attacks[n];
        return a ? `${fmt(a.rougeL)} / ${a.exact_windows.toFixed(2)} / ${fmt(a.pii)}` : 'not applicable';
      };
      lines.push(`${String(s.split).padEnd(4)}${s.drift.toFixed(3).padEnd(8)}${names.map((n) => cell(n).padEnd(w)).join('')}`);
    }
    for (const s of sc.splits) for (const [n, why] of Object.entries(s.not_applicable ?? {})) lines.push(`  k=${s.split} ${n}: not applicable (${why})`);
    lines.push('');
  }
  lines.push('budgets (training examples, steps, parameters, seconds; attackers are shared by scenarios with the same knowledge):');
  for (const sc of r.scenarios) {
    for (const s of sc.splits) {
      for (const [n, a] of Object.entries(s.attacks)) {
        const b = a.budget;
        lines.push(`  ${sc.scenario.name} k=${s.split} ${n.padEnd(20)} ${b.examples} ex, ${b.steps} steps, ${b.parameters} params, ${b.seconds.toFixed(1)} s train, ${a.invertSeconds.toFixed(1)} s invert`);
      }
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
    .option('--splits <list>', 'split points, e.g. 1..4 or 1,3 (default: 1..L-1; past 6 boundaries, five spread over the depth, e.g. 1,3,6,9,11 of 12 blocks)')
    .option('--attacks <list>', `attacks (default ${DEFAULT_SWEEP_ATTACKS.join(',')}; all: ${ACTIVATION_ATTACK_NAMES.join(',')})`)
    .option('--victim-segments <n>', 'victim windows scored per attack (a seeded sample across the victim set)', '64')
    .option('--seed <n>', 'seed (default 0)')
    .option('--json', 'print one JSON object');
  addTextOptions(cmd);
  addBudgetOptions(cmd);
  addScenarioOptions(cmd, DEFAULT_SCENARIOS);
  cmd.action(async (f: SweepFlags) => {
    const attacks = activationAttacks(f.attacks, DEFAULT_SWEEP_ATTACKS);
    const scenarios = scenariosFrom(f, DEFAULT_SCENARIOS);
    const progress = overallProgress('sweep');
    const ctx = openContext(f, (p) => progress.update(p));
    let result: SweepResult;
    try {
      const splitPoints = f.splits ? parseIntList(f.splits, '--splits') : defaultSplitPoints(ctx.model.config.nLayers);
      result = await runSweep(ctx, { splitPoints, attacks, scenarios });
    } finally {
      progress.stop();
      ctx.dispose();
    }
    if (f.json) return printJson(sweepJson(result));
    process.stdout.write(`${formatSweep(result)}\n`);
  });
}

import type { Command } from 'commander';
import { DEFENSE_NAMES, LEVEL_MEANING, UsageError, isDefenseName, runTradeoff, type TradeoffResult } from '../../index.js';
import { printJson } from '../output.js';
import { overallProgress } from '../progress.js';
import { activationAttacks } from './attack_sweep.js';
import { addBudgetOptions, addScenarioOptions, addTextOptions, openContext, scenariosFrom, type ExperimentFlags, type ScenarioFlags } from './experiment_flags.js';
import { intFlag, parseNumberList } from '../flags.js';

interface TradeoffFlags extends ExperimentFlags, ScenarioFlags {
  split: string;
  defense: string;
  levels: string;
  attacks: string;
  finetuneSteps: string;
  json?: boolean;
}

export function formatTradeoff(r: TradeoffResult): string {
  const names = Object.keys(r.levels[0]?.attacks ?? {});
  const head = `${'level'.padEnd(8)}${'perplexity'.padEnd(12)}${'epsilon'.padEnd(10)}${names.map((n) => `${n} naive/adaptive ROUGE-L`.padEnd(34)).join('')}`;
  const rows = r.levels.map((l) =>
    `${String(l.level).padEnd(8)}${l.perplexity.toFixed(2).padEnd(12)}${(l.epsilon === null ? '–' : l.epsilon.toFixed(2)).padEnd(10)}` +
    names.map((n) => `${l.attacks[n]!.naive.rougeL.toFixed(3)} / ${l.attacks[n]!.adaptive.rougeL.toFixed(3)}`.padEnd(34)).join(''),
  );
  const chance = r.chance_rougeL === null ? [] : [`chance (each scored window against another of them): ROUGE-L ${r.chance_rougeL.toFixed(3)}`];
  return [`${r.defense} at split ${r.split}, scenario ${r.scenario.name}: ${r.scenario.description}`, ...chance, head, ...rows].join('\n');
}

export function registerTradeoff(program: Command): void {
  const cmd = program
    .command('tradeoff')
    .description('privacy–utility curve of one defense: perplexity and every attack (naive and adaptive) per level')
    .requiredOption('--model <dir>', 'Hugging Face model directory')
    .requiredOption('--split <k>', 'split point')
    .requiredOption('--aux <source>', "attacker's auxiliary text")
    .requiredOption('--victim <source>', "victim's text (split into attacked and held-out utility parts)")
    .requiredOption('--defense <name>', `one of: ${DEFENSE_NAMES.map((d) => `${d} (level = ${LEVEL_MEANING[d]})`).join('; ')}`)
    .requiredOption('--levels <list>', 'defense levels, e.g. 0,0.5,1 (0 = no defense)')
    .option('--attacks <list>', 'attacks to run', 'revertlm,sip')
    .option('--finetune-steps <n>', 'split LoRA fine-tuning steps for training-time defenses (nopeek)', '60')
    .option('--victim-segments <n>', 'victim segments scored per attack (a seeded sample across the attacked part)', '64')
    .option('--seed <n>', 'seed (default 0)')
    .option('--json', 'print one JSON object');
  addTextOptions(cmd);
  addBudgetOptions(cmd);
  addScenarioOptions(cmd, ['exact']);
  cmd.action(async (f: TradeoffFlags) => {
    const scenarios = scenariosFrom(f, ['exact']);
    if (scenarios.length !== 1) throw new UsageError('a trade-off runs in one scenario', 'name one with --scenarios, or build it with --personalize/--knowledge/--wire-dtype');
    if (!isDefenseName(f.defense)) throw new UsageError(`unknown defense '${f.defense}'`, `choose one of: ${DEFENSE_NAMES.join(', ')}`);
    const levels = parseNumberList('--levels', f.levels, { min: 0 });
    const attacks = activationAttacks(f.attacks, []);
    const splitPoint = intFlag(f.split, '--split');
    const finetuneSteps = intFlag(f.finetuneSteps, '--finetune-steps', 1);
    const progress = overallProgress('tradeoff');
    const ctx = openContext(f, (p) => progress.update(p), { holdOut: true });
    let r: TradeoffResult;
    try {
      r = await runTradeoff(ctx, { splitPoint, defense: f.defense, levels, attacks, finetuneSteps, scenario: scenarios[0]! });
    } finally {
      progress.stop();
      ctx.dispose();
    }
    if (f.json) return printJson(r);
    process.stdout.write(`${formatTradeoff(r)}\n`);
  });
}

import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadModel, loadTokenizer, splitModel } from '../../models/index.js';
import { ATTACK_NAMES, isAttackName, type AttackName } from '../../attacks/index.js';
import { DEFENSE_NAMES, LEVEL_MEANING, isDefenseName, nopeekFinetune, tradeoff, type TradeoffResult } from '../../defenses/index.js';
import { splitDisjoint } from '../../data/index.js';
import { loadAuditTexts } from '../../audit/texts.js';
import { UsageError } from '../errors.js';
import { printJson } from '../output.js';
import { overallProgress } from '../progress.js';
import { addBudgetOptions, budgetFlags, intFlag, type BudgetFlags } from './budget_flags.js';

interface TradeoffFlags extends BudgetFlags {
  model: string;
  split: string;
  aux: string;
  victim: string;
  defense: string;
  levels: string;
  attacks: string;
  finetuneSteps: string;
  field?: string;
  column?: string;
  format?: string;
  victimFormat?: string;
  seed?: string;
  json?: boolean;
}

export function formatTradeoff(r: TradeoffResult): string {
  const names = Object.keys(r.levels[0]?.attacks ?? {});
  const head = `${'level'.padEnd(8)}${'perplexity'.padEnd(12)}${'epsilon'.padEnd(10)}${names.map((n) => `${n} naive/adaptive ROUGE-L`.padEnd(34)).join('')}`;
  const rows = r.levels.map((l) =>
    `${String(l.level).padEnd(8)}${l.perplexity.toFixed(2).padEnd(12)}${(l.epsilon === null ? '–' : l.epsilon.toFixed(2)).padEnd(10)}` +
    names.map((n) => `${l.attacks[n]!.naive.rougeL.toFixed(3)} / ${l.attacks[n]!.adaptive.rougeL.toFixed(3)}`.padEnd(34)).join(''),
  );
  return [`${r.defense} at split ${r.split}`, head, ...rows].join('\n');
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
    .option('--field <path>', 'JSON(L) field holding the text')
    .option('--column <name>', 'CSV/TSV column holding the text')
    .option('--format <format>', 'text format of both sets (lines, paragraphs, jsonl, json, csv, tsv); default: from the extension')
    .option('--victim-format <format>', 'text format of the victim set only')
    .option('--seed <n>', 'seed (default 0)')
    .option('--json', 'print one JSON object');
  addBudgetOptions(cmd);
  cmd.action(async (f: TradeoffFlags) => {
    if (!isDefenseName(f.defense)) throw new UsageError(`unknown defense '${f.defense}'`, `choose one of: ${DEFENSE_NAMES.join(', ')}`);
    const levels = f.levels.split(',').map((x) => Number(x.trim()));
    if (levels.some((x) => !Number.isFinite(x) || x < 0)) throw new UsageError(`--levels '${f.levels}' must be non-negative numbers`, 'e.g. --levels 0,0.5,1');
    const attacks = f.attacks.split(',').map((s) => s.trim());
    for (const a of attacks) if (!isAttackName(a)) throw new UsageError(`unknown attack '${a}'`, `choose from: ${ATTACK_NAMES.join(', ')}`);
    const seed = Number(f.seed ?? 0);
    const aux = loadAuditTexts('aux', { source: f.aux, field: f.field, column: f.column, format: f.format });
    const victimAll = loadAuditTexts('victim', { source: f.victim, field: f.field, column: f.column, format: f.victimFormat ?? f.format });
    if (victimAll.length < 4) throw new UsageError(`the victim set has ${victimAll.length} samples; the trade-off needs at least 4`, 'give more victim text');
    const [victim, utility, finetune] = splitDisjoint(victimAll, [0.5, 0.25, 0.25], seed);
    const model = loadModel(resolve(f.model));
    const tokenizer = loadTokenizer(resolve(f.model));
    try {
      const k = intFlag(f.split, '--split', 1);
      if (k > model.config.nLayers) throw new UsageError(`--split ${k} is outside 1..${model.config.nLayers}`);
      const { device, server } = splitModel(model, k);
      const progress = overallProgress('tradeoff');
      let r: TradeoffResult;
      try {
        r = await tradeoff({
          device, server, tokenizer, lm: model, defense: f.defense, levels, attacks: attacks as AttackName[],
          auxTexts: aux, victimTexts: victim!, utilityTexts: utility!, finetuneTexts: finetune!, budget: budgetFlags(f), seed,
          finetune: nopeekFinetune({ loadModel: () => loadModel(resolve(f.model)), tokenizer, split: k, steps: intFlag(f.finetuneSteps, '--finetune-steps', 1), maxTokens: 64, seed }),
          onProgress: (p) => progress.update({ part: `${f.defense}=${p.level} ${p.attacker}`, fraction: p.step / Math.max(1, p.totalSteps), detail: `${p.attack} ${p.phase}` }),
        });
      } finally {
        progress.stop();
      }
      if (f.json) return printJson(r);
      process.stdout.write(`${formatTradeoff(r)}\n`);
    } finally {
      model.dispose();
    }
  });
}

import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadModel, loadTokenizer, splitModel } from '../../models/index.js';
import {
  ATTACKS, ATTACK_NAMES, createAttack, isAttackName, readsFinetuneTraffic, simulateCapture, victimSegments, type Budget, type InterceptSource,
} from '../../attacks/index.js';
import { captureSource } from '../../attacks/from_capture.js';
import { scoreAll, type ScoreSummary } from '../../metrics/index.js';
import { loadAuditTexts } from '../../audit/texts.js';
import { UsageError } from '../errors.js';
import { log, printJson } from '../output.js';
import { overallProgress } from '../progress.js';
import { budgetFlags, intFlag, addBudgetOptions, type BudgetFlags } from './budget_flags.js';

interface AttackFlags extends BudgetFlags {
  model: string;
  split: string;
  attack: string;
  aux?: string;
  victim?: string;
  capture?: string;
  field?: string;
  column?: string;
  format?: string;
  victimFormat?: string;
  seed?: string;
  saveAttacker?: string;
  loadAttacker?: string;
  show: string;
  victimSegments: string;
  json?: boolean;
}

export function registerAttack(program: Command): void {
  const cmd = program
    .command('attack')
    .description('train one attack on auxiliary text, invert intercepted hidden states (simulated from --victim, or a server --capture), score and show examples')
    .requiredOption('--model <dir>', 'Hugging Face model directory (the pretrained weights the server knows)')
    .requiredOption('--split <k>', 'split point k: the device runs blocks [0, k)')
    .requiredOption('--attack <name>', `one of: ${ATTACK_NAMES.join(', ')}`)
    .option('--aux <source>', "attacker's auxiliary text (needed unless --load-attacker)")
    .option('--victim <source>', 'victim text: simulated capture, and the references to score against')
    .option('--capture <dir>', 'a capture recorded by `revertlm serve --capture` (the real attacker view)')
    .option('--field <path>', 'JSON(L) field holding the text')
    .option('--column <name>', 'CSV/TSV column holding the text')
    .option('--format <format>', 'text format of both sets (lines, paragraphs, jsonl, json, csv, tsv); default: from the extension')
    .option('--victim-format <format>', 'text format of the victim set only')
    .option('--seed <n>', 'seed (default 0)')
    .option('--save-attacker <dir>', 'write the trained attacker here')
    .option('--load-attacker <dir>', 'reuse an attacker written by --save-attacker instead of training')
    .option('--show <n>', 'examples to print', '3')
    .option('--victim-segments <n>', 'victim sequences to attack (with --victim)', '64')
    .option('--json', 'print one JSON object');
  addBudgetOptions(cmd);
  cmd.action(async (f: AttackFlags) => {
    if (!isAttackName(f.attack)) throw new UsageError(`unknown attack '${f.attack}'`, `choose one of: ${ATTACK_NAMES.join(', ')}`);
    if (!f.victim && !f.capture) throw new UsageError('nothing to attack', 'give --victim SOURCE (simulated capture) or --capture DIR');
    if (ATTACKS[f.attack].oracle) throw new UsageError(`'${f.attack}' is an upper bound that reads the victim's true tokens, not an attack`, 'run it in attack-sweep');
    const finetuneTraffic = readsFinetuneTraffic(f.attack);
    if (finetuneTraffic && !f.capture) {
      throw new UsageError(`attack '${f.attack}' reads U-shape fine-tuning traffic, which a simulated capture does not have`, 'give --capture DIR, recorded by `revertlm serve --tail M --capture DIR` while a device fine-tunes');
    }
    const trainingFree = f.attack === 'nn' || f.attack === 'opt' || f.attack === 'tag';
    if (!f.aux && !f.loadAttacker && !trainingFree) throw new UsageError('the attack needs auxiliary text to train on', 'give --aux SOURCE, or --load-attacker DIR');
    const k = intFlag(f.split, '--split');
    const model = loadModel(resolve(f.model));
    const tokenizer = loadTokenizer(resolve(f.model));
    const budget = budgetFlags(f);
    const maxTokens = budget.maxTokens ?? 32;
    try {
      if (k < 1 || k > model.config.nLayers) throw new UsageError(`--split ${k} is outside 1..${model.config.nLayers} for this model`);
      const device = splitModel(model, k).device;
      const attack = createAttack(f.attack, { device, tokenizer, lm: model });
      try {
        let spent: Budget;
        if (f.loadAttacker) {
          attack.load(resolve(f.loadAttacker));
          spent = attack.budget();
        } else {
          const aux = f.aux ? loadAuditTexts('aux', { source: f.aux, field: f.field, column: f.column, format: f.format }) : [];
          const progress = overallProgress(f.attack);
          try {
            spent = await attack.fit({ texts: aux, source: f.aux }, {
              budget: { ...budget, maxTokens }, seed: Number(f.seed ?? 0),
              onProgress: (p) => progress.update({ part: p.phase, fraction: p.step / Math.max(1, p.totalSteps), detail: `loss ${p.loss.toFixed(3)}` }),
            });
          } finally {
            progress.stop();
          }
        }
        if (f.saveAttacker) attack.save(resolve(f.saveAttacker));
        let refs: string[] | null = null;
        let source: InterceptSource;
        if (f.capture) {
          // Fine-tuning attacks read training steps only (eval forwards carry no gradients).
          source = captureSource(resolve(f.capture), finetuneTraffic ? { phase: 'train' } : {});
          if (source.splitPoint !== k) {
            source.dispose();
            throw new UsageError(`the capture was taken at split ${source.splitPoint}, not --split ${k}`, `rerun with --split ${source.splitPoint}`);
          }
        } else {
          refs = victimSegments(loadAuditTexts('victim', { source: f.victim!, field: f.field, column: f.column, format: f.victimFormat ?? f.format }), tokenizer, { maxTokens }).slice(0, intFlag(f.victimSegments, '--victim-segments', 1));
          source = simulateCapture(device, tokenizer, refs, { maxTokens });
        }
        const hyps: string[] = [];
        try {
          for (const b of source.batches(32)) hyps.push(...attack.invert(b).texts);
        } finally {
          source.dispose();
        }
        const scores: ScoreSummary | null = refs ? scoreAll(refs, hyps) : null;
        const n = Number(f.show);
        const examples = hyps.slice(0, n).map((h, i) => ({ ...(refs ? { original: refs[i] } : {}), reconstruction: h }));
        if (f.json) return printJson({ attack: f.attack, split: k, scores, budget: spent, sequences: hyps.length, examples });
        if (scores) {
          process.stdout.write(`${f.attack} at k=${k}: ROUGE-L ${scores.rougeL.toFixed(3)}  BLEU ${scores.bleu.toFixed(3)}  token acc ${scores.token_acc.toFixed(3)}  PII ${scores.pii === null ? '–' : scores.pii.toFixed(3)}\n`);
        } else process.stdout.write(`${f.attack} at k=${k}: ${hyps.length} captured sequences inverted (no references to score against)\n`);
        process.stdout.write(`budget: ${spent.examples} examples, ${spent.steps} steps, ${spent.parameters} parameters, ${spent.seconds.toFixed(1)} s\n`);
        for (const e of examples) {
          if (e.original !== undefined) process.stdout.write(`\n  original:       ${e.original}\n`);
          process.stdout.write(`  reconstruction: ${e.reconstruction}\n`);
        }
        log('');
      } finally {
        attack.dispose();
      }
    } finally {
      model.dispose();
    }
  });
}

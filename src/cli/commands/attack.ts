import type { Command } from 'commander';
import { resolve } from 'node:path';
import {
  ATTACKS, ATTACK_NAMES, UsageError, captureSource, createAttack, createContext, invertSource, isAttackName, readsFinetuneTraffic, scoreAll, simulateCapture, trainAttack,
  type Attack, type InterceptSource, type ScoreSummary,
} from '../../index.js';
import { log, printJson } from '../output.js';
import { overallProgress } from '../progress.js';
import { addBudgetOptions, addTextOptions, contextSpec, intFlag, type ExperimentFlags } from './experiment_flags.js';

interface AttackFlags extends ExperimentFlags {
  split: string;
  attack: string;
  capture?: string;
  saveAttacker?: string;
  loadAttacker?: string;
  show: string;
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
    .option('--seed <n>', 'seed (default 0)')
    .option('--save-attacker <dir>', 'write the trained attacker here')
    .option('--load-attacker <dir>', 'reuse an attacker written by --save-attacker instead of training')
    .option('--show <n>', 'examples to print', '3')
    .option('--victim-segments <n>', 'victim segments to attack (with --victim; a seeded sample across the victim set)', '64')
    .option('--json', 'print one JSON object');
  addTextOptions(cmd);
  addBudgetOptions(cmd);
  cmd.action(async (f: AttackFlags) => {
    if (!isAttackName(f.attack)) throw new UsageError(`unknown attack '${f.attack}'`, `choose one of: ${ATTACK_NAMES.join(', ')}`);
    if (!f.victim && !f.capture) throw new UsageError('nothing to attack', 'give --victim SOURCE (simulated capture) or --capture DIR');
    const entry = ATTACKS[f.attack];
    if (entry.oracle) throw new UsageError(`'${f.attack}' is an upper bound that reads the victim's true tokens, not an attack`, 'run it in attack-sweep');
    const finetuneTraffic = readsFinetuneTraffic(f.attack);
    if (finetuneTraffic && !f.capture) {
      throw new UsageError(`attack '${f.attack}' reads U-shape fine-tuning traffic, which a simulated capture does not have`, 'give --capture DIR, recorded by `revertlm serve --tail M --capture DIR` while a device fine-tunes');
    }
    if (!f.aux && !f.loadAttacker && entry.trains) throw new UsageError('the attack needs auxiliary text to train on', 'give --aux SOURCE, or --load-attacker DIR');
    const k = intFlag(f.split, '--split');
    const ctx = createContext({ ...contextSpec(f), victim: f.capture ? null : contextSpec(f).victim });
    try {
      ctx.parts(k);
      let attack: Attack;
      if (f.loadAttacker) {
        attack = createAttack(f.attack, ctx.knowledge(k));
        attack.load(resolve(f.loadAttacker));
      } else {
        const progress = overallProgress(f.attack);
        try {
          attack = await trainAttack(ctx, { attack: f.attack, splitPoint: k, progress: (p) => progress.update(p) });
        } finally {
          progress.stop();
        }
      }
      try {
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
          refs = ctx.requireVictim().segments;
          source = simulateCapture(ctx.parts(k).device, ctx.tokenizer, refs, { addBos: ctx.addBos, maxTokens: ctx.maxTokens });
        }
        let hyps: string[];
        try {
          hyps = invertSource(attack, source);
        } finally {
          source.dispose();
        }
        const scores: ScoreSummary | null = refs ? scoreAll(refs, hyps) : null;
        const examples = hyps.slice(0, intFlag(f.show, '--show')).map((h, i) => ({ ...(refs ? { original: refs[i] } : {}), reconstruction: h }));
        const spent = attack.budget();
        const victim = refs ? ctx.requireVictim().sampling : null;
        if (f.json) return printJson({ attack: f.attack, split: k, scores, budget: spent, sequences: hyps.length, ...(victim ? { victim } : {}), examples });
        if (scores) {
          process.stdout.write(`${f.attack} at k=${k}: ROUGE-L ${scores.rougeL.toFixed(3)}  BLEU ${scores.bleu.toFixed(3)}  token acc ${scores.token_acc.toFixed(3)}  PII ${scores.pii === null ? '–' : scores.pii.toFixed(3)}\n`);
          process.stdout.write(`victim: ${victim!.segments} of ${victim!.of} segments (${victim!.method}, seed ${victim!.seed})\n`);
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
      ctx.dispose();
    }
  });
}

import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, parseAuditConfig, projectRoot, type AuditConfigInput } from '../../index.js';
import { auditAndReport } from './audit.js';

/** The embedded default model: pretrained by the project on SpamAssassin ham (models/mail-llama/RECIPE.md). */
export const DEFAULT_MODEL = 'models/mail-llama';

/**
 * The embedded default audit: the project's own small e-mail model, victim = one ham group,
 * attacker's auxiliary data = a different group, sized to finish in minutes on 2 CPU cores.
 */
export function demoConfig(root: string): AuditConfigInput {
  return {
    model: join(root, DEFAULT_MODEL),
    aux: { source: 'spamassassin:hard-ham-1', limit: 250 },
    victim: { source: 'spamassassin:easy-ham-2', limit: 400 },
    splits: [1, 2, 3],
    attacks: ['revertlm', 'sip', 'nn'],
    defenses: [{ name: 'gaussian', levels: [0, 1], split: 2 }],
    tradeoffAttacks: ['revertlm', 'sip'],
    leakage: { enabled: true, tokens: 1024 },
    // Budgets sized so the whole demo fits in about ten minutes on 2 CPU cores; `revertlm audit`
    // defaults to each attack's full budget.
    budget: { steps: 200, examples: 1500 },
    victimSegments: 24,
    seed: 0,
  };
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the embedded default audit (no arguments, no network) and print the report path')
    .option('--out <dir>', 'output directory', 'revertlm-demo')
    .option('--json', 'print one JSON object')
    .action(async (o: { out: string; json?: boolean }) => {
      const root = projectRoot();
      const cfg = parseAuditConfig(demoConfig(root), 'demo configuration');
      if (!existsSync(join(cfg.model, 'config.json'))) {
        throw new UsageError(`the embedded model is missing from ${cfg.model}`, 'restore it from git (models/mail-llama) or rebuild it with the commands in its RECIPE.md');
      }
      await auditAndReport(cfg, resolve(o.out), !!o.json, o.out === 'revertlm-demo' ? 'revertlm demo' : `revertlm demo --out ${o.out}`);
    });
}

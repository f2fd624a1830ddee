import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SCENARIO_PRESETS, UsageError, parseAuditConfig, projectRoot, type AuditConfigInput } from '../../index.js';
import { auditAndReport } from './audit.js';

/** The embedded default model: pretrained by the project on SpamAssassin ham (models/mail-llama/RECIPE.md). */
export const DEFAULT_MODEL = 'models/mail-llama';

/**
 * The embedded default audit: the project's own small e-mail model, victim = one ham group,
 * attacker's auxiliary data = a different group, sized for minutes on 2 CPU cores. What it trades
 * against a full `revertlm audit` (README, "The demo against a full audit"): two split points of
 * three, 12 victim windows of 20 tokens, attack budgets of 150 steps × 16 windows on 1000
 * auxiliary windows with a RevertLM generator of half the default width and depth (d 128, two
 * memory layers: the default's size pays off at deep splits and larger budgets, and the demo's
 * splits are shallow), a device personalized for 300 steps (lr 3e-3, reaching the drift of 1000 at
 * 1e-3), and the trade-off in the exact scenario (no device fine-tuning per level; the attacker
 * knows the device's weights, so what protects there protects a personalized device too), with
 * RevertLM and nearest neighbour (no adaptive SIP training per level) at split 1 only, where the
 * representation leaks most and inversion is cheapest.
 */
export function demoConfig(root: string): AuditConfigInput {
  return {
    model: join(root, DEFAULT_MODEL),
    aux: { source: 'spamassassin:hard-ham-1', limit: 250 },
    victim: { source: 'spamassassin:easy-ham-2', limit: 400 },
    splits: [1, 3],
    attacks: ['revertlm', 'sip', 'nn'],
    scenarios: ['exact', { ...SCENARIO_PRESETS.personalized, personalize: { ...SCENARIO_PRESETS.personalized.personalize, steps: 300, lr: 3e-3 } }],
    defenses: [{ name: 'gaussian', levels: [0, 1, 2, 4], split: 1, scenario: 'exact' }],
    tradeoffAttacks: ['revertlm', 'nn'],
    leakage: { enabled: true, tokens: 1024 },
    budget: { steps: 150, examples: 1000, batchSize: 16, maxTokens: 20 },
    revertlm: { generator: { d: 128, heads: 4, ff: 512, memLayers: 2 } },
    victimSegments: 12,
    examples: 3,
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

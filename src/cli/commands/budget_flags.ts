import type { Command } from 'commander';
import type { BudgetSpec } from '../../attacks/index.js';
import { UsageError } from '../errors.js';

export interface BudgetFlags {
  steps?: string;
  examples?: string;
  batchSize?: string;
  maxTokens?: string;
}

export function intFlag(v: string, name: string, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

/** The attack training budget options shared by attack, attack-sweep and tradeoff. */
export function addBudgetOptions(cmd: Command): Command {
  return cmd
    .option('--steps <n>', 'optimiser steps per trained part (default: each attack\'s own)')
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

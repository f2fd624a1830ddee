// Every attack at every split point on one context, in the JSON shape the CLI reports.
import { assertRunsOnActivations, type AttackConfig, type AttackName, type Budget, type BudgetSpec } from '../attacks/index.js';
import type { ExperimentContext } from './context.js';
import type { SegmentSampling } from './segments.js';
import { runAttack, type AttackScores, type RunAttackResult } from './attack.js';
import { WorkCounter } from './progress.js';

export interface SweepOptions {
  splitPoints: number[];
  attacks: AttackName[];
  /** Per-attack budget overrides (e.g. a larger one for a baseline). */
  budgets?: Partial<Record<AttackName, Partial<BudgetSpec>>>;
  configs?: { [N in AttackName]?: AttackConfig<N> };
  /** Examples per result kept in RunAttackResult (default 3). */
  examples?: number;
  onResult?: (r: RunAttackResult) => void;
}

export interface SweepResult {
  splits: { split: number; attacks: Record<string, Omit<AttackScores, 'budget'> & { budget: Budget }> }[];
  victim: SegmentSampling;
  aux: { texts: number; source: string };
}

export async function runSweep(ctx: ExperimentContext, o: SweepOptions): Promise<SweepResult> {
  // Refuse before any attack trains.
  o.attacks.forEach(assertRunsOnActivations);
  for (const k of o.splitPoints) ctx.parts(k);
  const victim = ctx.requireVictim();
  const aux = ctx.requireAux();
  const work = new WorkCounter(ctx.progress, o.splitPoints.length * o.attacks.length);
  const out: SweepResult = { splits: [], victim: victim.sampling, aux: { texts: aux.texts.length, source: aux.source } };
  for (const k of o.splitPoints) {
    const row: SweepResult['splits'][number] = { split: k, attacks: {} };
    for (const name of o.attacks) {
      const r = await runAttack(ctx, {
        attack: name, splitPoint: k, config: o.configs?.[name] as AttackConfig<typeof name> | undefined,
        budget: o.budgets?.[name], examples: o.examples, progress: work.unit(),
      });
      row.attacks[name] = r.scores;
      work.finish(`${name} k=${k}`, `ROUGE-L ${r.scores.rougeL.toFixed(3)}`);
      o.onResult?.(r);
    }
    out.splits.push(row);
  }
  return out;
}

// Every attack at every split point in every scenario, on one context, in the JSON shape the CLI
// reports. Attackers trained on the same knowledge are shared between scenarios.
import { assertRunsOnActivations, type AttackConfig, type AttackName, type BudgetSpec } from '../attacks/index.js';
import type { ExperimentContext } from './context.js';
import { DEFAULT_SCENARIOS, SCENARIO_PRESETS, resolveScenario, type Scenario } from './scenario.js';
import type { WindowSampling } from './traffic.js';
import { runAttack, scenarioReport, type AttackScores, type RunAttackResult, type ScenarioReport } from './attack.js';
import { WorkCounter } from './progress.js';

export interface SweepOptions {
  splitPoints: number[];
  attacks: AttackName[];
  /** Scenarios side by side (default: exact and personalized, DEFAULT_SCENARIOS). */
  scenarios?: Scenario[];
  /** Per-attack budget overrides (e.g. a larger one for a baseline). */
  budgets?: Partial<Record<AttackName, Partial<BudgetSpec>>>;
  configs?: { [N in AttackName]?: AttackConfig<N> };
  /** Examples per result kept in RunAttackResult (default 3). */
  examples?: number;
  onResult?: (r: RunAttackResult) => void;
}

export interface SweepSplit {
  split: number;
  /** ‖H_victim − H_pretrained‖ / ‖H_pretrained‖ on the scored windows. */
  drift: number;
  attacks: Record<string, AttackScores>;
  /** Attacks that cannot run on what the attacker knows, with the reason (never silently dropped). */
  not_applicable?: Record<string, string>;
}

export interface ScenarioSweep {
  scenario: ScenarioReport;
  /** How the scored windows were chosen. */
  victim: WindowSampling;
  splits: SweepSplit[];
}

export interface SweepResult {
  scenarios: ScenarioSweep[];
  aux: { texts: number; source: string };
}

export async function runSweep(ctx: ExperimentContext, o: SweepOptions): Promise<SweepResult> {
  // Refuse before any attack trains.
  o.attacks.forEach(assertRunsOnActivations);
  for (const k of o.splitPoints) ctx.parts(k);
  const scenarios = o.scenarios ?? DEFAULT_SCENARIOS.map((n) => resolveScenario(SCENARIO_PRESETS[n], n));
  if (!scenarios.length) throw new RangeError('a sweep needs at least one scenario');
  ctx.requireVictim();
  const aux = ctx.requireAux();
  const work = new WorkCounter(ctx.progress, scenarios.length * o.splitPoints.length * o.attacks.length);
  const out: SweepResult = { scenarios: [], aux: { texts: aux.texts.length, source: aux.source } };
  // Split by split, each in every scenario: the attackers of a split (shared by its scenarios) are
  // done with once it is, so an interrupted run resumed from its kept results retrains at most one split's.
  const rows: SweepSplit[][] = scenarios.map(() => []);
  const victims: (WindowSampling | null)[] = scenarios.map(() => null);
  for (const k of o.splitPoints) {
    for (const [si, scenario] of scenarios.entries()) {
      const row: SweepSplit = { split: k, drift: 0, attacks: {} };
      for (const name of o.attacks) {
        const r = await runAttack(ctx, {
          attack: name, splitPoint: k, scenario, config: o.configs?.[name] as AttackConfig<typeof name> | undefined,
          budget: o.budgets?.[name], examples: o.examples, progress: work.unit(),
        });
        row.drift = r.drift;
        if (r.scores) row.attacks[name] = r.scores;
        else (row.not_applicable ??= {})[name] = r.notApplicable!;
        work.finish(`${name} k=${k}`, `${r.scenario.name}: ${r.scores ? `ROUGE-L ${r.scores.rougeL.toFixed(3)}, exact ${r.scores.exact_windows.toFixed(2)}` : 'not applicable'}`);
        victims[si] ??= r.sampling;
        o.onResult?.(r);
      }
      victims[si] ??= (await ctx.traffic(k, scenario)).sampling;
      rows[si]!.push(row);
    }
  }
  scenarios.forEach((scenario, si) => out.scenarios.push({ scenario: scenarioReport(scenario), victim: victims[si]!, splits: rows[si]! }));
  return out;
}

/**
 * The JSON the CLI prints: with one scenario, the flat shape scripts already read
 * (`splits[].attacks[name]`) plus a `scenario` object; with several, `scenarios: [{scenario, splits}]`.
 */
export function sweepJson(r: SweepResult): object {
  if (r.scenarios.length === 1) {
    const [only] = r.scenarios;
    return { scenario: only!.scenario, splits: only!.splits, victim: only!.victim, aux: r.aux };
  }
  return r;
}

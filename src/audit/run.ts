// The audit: leakage per block, every attack at every split point, trade-off curves per defense,
// each timed, on one experiment context; the results are what the report shows.
import { analyzeLeakage } from '../leakage/index.js';
import type { AttackName } from '../attacks/index.js';
import type { DefenseName } from '../defenses/index.js';
import { createContext, defaultSplitPoints, type ExperimentContext } from '../experiments/context.js';
import { runSweep } from '../experiments/sweep.js';
import { runTradeoff } from '../experiments/tradeoff.js';
import { scenarioReport, type AttackScores } from '../experiments/attack.js';
import { slice, silent, type ProgressSink } from '../experiments/progress.js';
import type { ResultStore } from '../experiments/result_store.js';
import { piiRecovery, piiRecoveryCorpus } from '../metrics/index.js';
import { strongest, summarize, type AttackScore, type AuditResults, type Example, type PiiCount } from '../report/index.js';
import { auditScenario, revertlmConfigs, type AuditConfig } from './config.js';
import { chooseExamples } from './examples.js';

export type AuditProgress = Parameters<ProgressSink>[0];

export interface AuditRunOptions {
  /** Keeps each finished attack result (and, opened with resume, reuses an interrupted run's). */
  store?: ResultStore;
  /** Told what the user should know about the text sets (ExperimentContext.notes) once they are loaded. */
  onNote?: (note: string) => void;
}

export async function runAudit(cfg: AuditConfig, onProgress: ProgressSink = silent, o: AuditRunOptions = {}): Promise<AuditResults> {
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = (performance.now() - t0) / 1000;
    }
  };

  onProgress({ part: 'load', fraction: 0, detail: 'loading model and data' });
  const ctx: ExperimentContext = await timed('load', () =>
    createContext({
      model: cfg.model, aux: cfg.aux, victim: cfg.victim, victimSegments: cfg.victimSegments,
      holdOut: cfg.defenses.length > 0, budget: cfg.budget, seed: cfg.seed, ...(o.store ? { store: o.store } : {}),
    }),
  );
  try {
    for (const n of ctx.notes) o.onNote?.(n);
    const L = ctx.model.config.nLayers;
    const splits = cfg.splits ?? defaultSplitPoints(L);
    for (const k of splits) ctx.parts(k);
    const victim = ctx.requireVictim();
    const attacks = cfg.attacks as AttackName[];
    // Unless named, the curves run the two strongest attacks of the sweep at their split point.
    const tradeoffCount = cfg.tradeoffAttacks?.length ?? Math.min(2, attacks.length);
    // Progress is shared out by units of work: the leakage pass, each attack, each trade-off attacker.
    const units = (cfg.leakage.enabled ? 1 : 0) + cfg.scenarios.length * splits.length * attacks.length + cfg.defenses.reduce((a, d) => a + d.levels.length * tradeoffCount * 2, 0);
    let done = 0;
    const part = (name: string, n: number): ProgressSink => {
      const s = slice(onProgress, done / units, (done + n) / units);
      done += n;
      return (p) => s({ ...p, part: name, detail: p.part === name ? p.detail : `${p.part}: ${p.detail}` });
    };

    let leakage: AuditResults['leakage'] = null;
    if (cfg.leakage.enabled) {
      const p = part('leakage', 1);
      const rep = await timed('leakage', () =>
        analyzeLeakage(ctx.model, ctx.tokenizer, victim.texts, {
          tokens: cfg.leakage.tokens, seed: cfg.seed, name: cfg.model,
          onProgress: (e) => p({ part: 'leakage', fraction: e.done / Math.max(1, e.total), detail: e.stage === 'tokens' ? 'collecting hidden states' : `layer ${e.layer} ${e.estimator}` }),
        }),
      );
      leakage = { tokens: rep.tokens, h_x: rep.h_x, layers: rep.layers };
    }

    const examples: Example[] = [];
    const piiSpans = new Map<string, PiiCount>();
    const chosen = new Map<string, ReturnType<typeof chooseExamples>>();
    const scenarios = cfg.scenarios.map(auditScenario);
    const attackConfigs = revertlmConfigs(cfg.revertlm);
    const sweepCtx = { ...ctx, progress: part('attacks', scenarios.length * splits.length * attacks.length) };
    const sweep = await timed('attacks', () =>
      runSweep(sweepCtx, {
        splitPoints: splits, attacks, scenarios, examples: 0, configs: attackConfigs,
        onResult: (r) => {
          if (!r.scores) return;
          const key = `${r.scenario.name}|${r.split}`;
          const { recovered, total } = piiRecoveryCorpus(r.references, r.reconstructions);
          piiSpans.set(`${key}|${r.attack}`, { recovered, total });
          // The same windows for every attack of a scenario and split, so attacks compare side by side.
          let windows = chosen.get(key);
          if (!windows) chosen.set(key, (windows = chooseExamples(r.references, cfg.examples, cfg.seed)));
          for (const w of windows) {
            const original = r.references[w.index]!;
            const reconstruction = r.reconstructions[w.index]!;
            const p = piiRecovery(original, reconstruction);
            examples.push({ scenario: r.scenario.name, split: r.split, attack: r.attack, original, reconstruction, window: w.index, chosen: w.chosen, pii_spans: { recovered: p.recovered, total: p.total } });
          }
        },
      }),
    );
    // Results arrive split by split; the examples read scenario by scenario, as the tables do (a stable sort).
    const order = (e: Example) => sweep.scenarios.findIndex((sc) => sc.scenario.name === e.scenario) * splits.length + splits.indexOf(e.split);
    examples.sort((a, b) => order(a) - order(b));
    const scoreOf = (scenario: string, split: number, a: AttackScores, name: string): AttackScore => ({
      rougeL: a.rougeL, rouge1: a.rouge1, rouge2: a.rouge2, bleu: a.bleu, token_acc: a.token_acc, exact_match: a.exact_match, exact_windows: a.exact_windows, pii: a.pii,
      ...(a.adaptation ? { adaptation: a.adaptation } : {}),
      ...(piiSpans.has(`${scenario}|${split}|${name}`) ? { pii_spans: piiSpans.get(`${scenario}|${split}|${name}`)! } : {}),
    });
    const attackResults: AuditResults['attacks'] = {
      scenarios: sweep.scenarios.map((sc) => ({
        scenario: { ...sc.scenario, settings: sc.scenario.settings as unknown as Record<string, unknown> },
        victim: sc.victim,
        splits: sc.splits.map((s) => ({
          split: s.split,
          drift: s.drift,
          attacks: Object.fromEntries(Object.entries(s.attacks).map(([n, a]) => [n, scoreOf(sc.scenario.name, s.split, a, n)])),
          budgets: Object.fromEntries(Object.entries(s.attacks).map(([n, a]) => [n, { examples: a.budget.examples, steps: a.budget.steps, parameters: a.budget.parameters, seconds: a.budget.seconds, invert_seconds: a.invertSeconds }])),
          ...(s.not_applicable ? { not_applicable: s.not_applicable } : {}),
        })),
      })),
    };

    const tradeoffs: AuditResults['tradeoffs'] = [];
    for (const d of cfg.defenses) {
      const k = d.split ?? splits[Math.floor(splits.length / 2)]!;
      const scenario = d.scenario ? auditScenario(d.scenario) : scenarios.at(-1)!;
      const dctx = { ...ctx, progress: part('tradeoff', d.levels.length * tradeoffCount * 2) };
      const tradeoffAttacks = (cfg.tradeoffAttacks ?? strongestAttacks(attackResults, scenarioReport(scenario).name, k, tradeoffCount) ?? attacks.slice(0, tradeoffCount)) as AttackName[];
      tradeoffs.push(await timed(`tradeoff ${d.name}`, () =>
        runTradeoff(dctx, { splitPoint: k, defense: d.name as DefenseName, levels: d.levels, attacks: tradeoffAttacks, finetuneSteps: cfg.finetuneSteps, scenario, configs: attackConfigs }),
      ));
    }

    const c = ctx.model.config;
    const results: AuditResults = {
      version: 1,
      created: new Date().toISOString(),
      config: cfg as unknown as Record<string, unknown>,
      setup: {
        model: cfg.model, family: c.family, layers: c.nLayers, dModel: c.dModel, vocab: c.vocabSize, parameters: ctx.model.numParameters(),
        splits, auxSamples: ctx.requireAux().texts.length, victimSamples: victim.texts.length, auxSource: cfg.aux.source, victimSource: cfg.victim.source,
      },
      leakage,
      attacks: attackResults,
      examples,
      tradeoffs: tradeoffs.map((t) => ({ ...t, scenario: { ...t.scenario, settings: t.scenario.settings as unknown as Record<string, unknown> } })),
      timings,
      ...(o.store?.reused ? { resumed: o.store.reused } : {}),
    };
    // The summary's thresholds are the config's; the summary itself is a pure function of the results.
    return { ...results, summary: summarize(results, cfg.thresholds) };
  } finally {
    ctx.dispose();
  }
}

/** The `n` strongest attacks of a scenario at split k (highest ROUGE-L first), or null when it was not swept there. */
function strongestAttacks(r: AuditResults['attacks'], scenario: string, k: number, n: number): string[] | null {
  const row = r?.scenarios.find((s) => s.scenario.name === scenario)?.splits.find((s) => s.split === k);
  if (!row || !Object.keys(row.attacks).length) return null;
  const rest = { ...row.attacks };
  const out: string[] = [];
  while (out.length < n && Object.keys(rest).length) {
    const [name] = strongest(rest)!;
    out.push(name);
    delete rest[name];
  }
  return out;
}

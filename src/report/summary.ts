// The conclusion a privacy engineer acts on: per split point and scenario, what the strongest attack
// recovers (the verdict, rated red/amber/green against stated thresholds), and which tried defense
// configurations keep the strongest attacker below the protection threshold, at what utility cost
// (the recommendation) — or, when none does, what to try next. A pure function of the results.
import { DEFENSE_NAMES, LEVEL_MEANING, createDefense, type DefenseName } from '../defenses/index.js';
import type { AttackScore, AuditResults, AuditSummary, DefendedConfig, Rating, Recommendation, Thresholds, Verdict, VerdictRow } from './types.js';

export const DEFAULT_THRESHOLDS: Thresholds = { rougeL: 0.5, pii: 0.1, red: { rougeL: 0.8, pii: 0.5 } };

const SEVERITY: Record<Rating, number> = { green: 0, amber: 1, red: 2 };

/** Green below the protection threshold, red at or above the red one, amber between. */
export function rate(rougeL: number, pii: number | null, t: Thresholds): Rating {
  if (rougeL >= t.red.rougeL || (pii !== null && pii >= t.red.pii)) return 'red';
  return protects(rougeL, pii, t) ? 'green' : 'amber';
}

/** Below the ROUGE-L threshold and at most the PII share (windows without PII spans pass that part). */
export function protects(rougeL: number, pii: number | null, t: Thresholds): boolean {
  return rougeL < t.rougeL && (pii === null || pii <= t.pii);
}

/** The strongest of the attacks that ran: highest ROUGE-L, then more windows recovered exactly. */
export function strongest(attacks: Record<string, AttackScore>): [string, AttackScore] | null {
  let best: [string, AttackScore] | null = null;
  for (const e of Object.entries(attacks)) {
    if (!best || e[1].rougeL > best[1].rougeL || (e[1].rougeL === best[1].rougeL && e[1].exact_windows > best[1].exact_windows)) best = e;
  }
  return best;
}

function verdict(r: AuditResults, t: Thresholds): Verdict {
  const rows: VerdictRow[] = [];
  for (const sc of r.attacks?.scenarios ?? []) {
    for (const s of sc.splits) {
      const top = strongest(s.attacks);
      if (!top) continue;
      const [attack, a] = top;
      rows.push({
        scenario: sc.scenario.name, split: s.split, attack, rougeL: a.rougeL, token_acc: a.token_acc, exact_windows: a.exact_windows,
        pii: a.pii, pii_spans: a.pii_spans ?? null, rating: rate(a.rougeL, a.pii, t),
      });
    }
  }
  const rating = rows.reduce<Rating>((w, x) => (SEVERITY[x.rating] > SEVERITY[w] ? x.rating : w), 'green');
  return { rating, rows, examples: verdictExamples(r, rows) };
}

/**
 * Two real examples for the verdict: reconstructions by the strongest attack of its scenario and
 * split, preferring the last scenario (the most realistic one), then the most PII recovered, then
 * the longest original; two different windows, from two split points where there are.
 */
function verdictExamples(r: AuditResults, rows: VerdictRow[]): number[] {
  const top = new Map(rows.map((x) => [`${x.scenario}|${x.split}`, x.attack]));
  const lastScenario = r.attacks?.scenarios.at(-1)?.scenario.name;
  const candidates = r.examples
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => top.get(`${e.scenario}|${e.split}`) === e.attack)
    .sort((a, b) =>
      Number(b.e.scenario === lastScenario) - Number(a.e.scenario === lastScenario) ||
      (b.e.pii_spans?.recovered ?? 0) - (a.e.pii_spans?.recovered ?? 0) ||
      b.e.original.length - a.e.original.length ||
      a.i - b.i);
  // Two different windows, from two split points where there are.
  const first = candidates[0];
  if (!first) return [];
  const other = candidates.filter((c) => c.e.original !== first.e.original);
  const second = other.find((c) => c.e.split !== first.e.split) ?? other[0];
  return second ? [first.i, second.i] : [first.i];
}

function configs(r: AuditResults, t: Thresholds): DefendedConfig[] {
  return r.tradeoffs.flatMap((tr, ti) => {
    const base = tr.levels.find((l) => l.level === 0)?.perplexity ?? null;
    return tr.levels.flatMap((l, li) => {
      let best: { attack: string; attacker: 'naive' | 'adaptive'; rougeL: number } | null = null;
      let pii: number | null = null;
      for (const [attack, a] of Object.entries(l.attacks)) {
        for (const who of ['naive', 'adaptive'] as const) {
          const s = a[who];
          if (!best || s.rougeL > best.rougeL) best = { attack, attacker: who, rougeL: s.rougeL };
          if (s.pii !== null) pii = Math.max(pii ?? 0, s.pii);
        }
      }
      if (!best) return [];
      return [{
        tradeoff: ti, level_index: li, defense: tr.defense, split: tr.split, scenario: tr.scenario.name, level: l.level, ...best, pii,
        perplexity: l.perplexity, perplexity_ratio: base === null ? null : l.perplexity / base, protects: protects(best.rougeL, pii, t),
      }];
    });
  });
}

const fmt = (x: number) => String(Number(x.toPrecision(3)));

/** Levels beyond `level` that defend more (null when more of the defense is not a stronger level). */
function strongerLevels(name: DefenseName, level: number): number[] | null {
  if (name === 'quantize' || createDefense({ name, level: 1 }).stage === 'training') return null;
  // Fractions and probabilities end at 1.
  if (name === 'topk' || name === 'dropout') return level >= 0.99 ? null : [0, ...[0.5, 0.75, 0.9].map((f) => level + (1 - level) * f)];
  return [0, 2, 4, 8].map((m) => m * Math.max(level, 0.25));
}

/** Concrete next steps when no tried configuration protects the text. */
function nextSteps(r: AuditResults, all: DefendedConfig[], rows: VerdictRow[]): string[] {
  const out: string[] = [];
  const splits = r.setup.splits;
  const deepest = Math.max(...splits);
  if (!all.length) {
    out.push(`No defense was tried. Add one to the audit, e.g. --defenses gaussian:0,0.5,1,2@${splits[Math.floor(splits.length / 2)] ?? 1} (levels: ${LEVEL_MEANING.gaussian}).`);
  }
  for (const [ti, tr] of r.tradeoffs.entries()) {
    const mine = all.filter((c) => c.tradeoff === ti);
    const top = mine.reduce<DefendedConfig | null>((a, c) => (a && a.level >= c.level ? a : c), null);
    if (!top || top.protects) continue;
    const higher = strongerLevels(tr.defense as DefenseName, top.level);
    if (!higher) {
      const best = mine.reduce((a, c) => (c.rougeL < a.rougeL ? c : a));
      out.push(`${tr.defense} at split ${tr.split}: no level tried protects (at best, level ${fmt(best.level)}, ${best.attack} (${best.attacker}) reaches ROUGE-L ${fmt(best.rougeL)}); try another defense.`);
      continue;
    }
    out.push(`${tr.defense} at split ${tr.split}: the strongest level tried (${fmt(top.level)}, ${LEVEL_MEANING[tr.defense as DefenseName]}) still leaves ${top.attack} (${top.attacker}) at ROUGE-L ${fmt(top.rougeL)}` +
      `${top.perplexity_ratio === null ? '' : ` for ${fmt(top.perplexity_ratio)}× the perplexity`}; try higher levels: --defenses ${tr.defense}:${higher.map(fmt).join(',')}@${tr.split}.`);
  }
  // Deeper splits keep less information: where the attacks weaken with depth, a defense there needs less.
  const atDeepest = rows.filter((x) => x.split === deepest);
  if (deepest < r.setup.layers - 1) {
    out.push(`Split deeper: the deepest split point tried is ${deepest} of ${r.setup.layers} blocks; each block keeps less information, try --splits ${deepest + 1}..${r.setup.layers - 1}.`);
  } else if (atDeepest.length && r.tradeoffs.length && !r.tradeoffs.some((t) => t.split === deepest)) {
    out.push(`Defend at the deepest split point (${deepest}), where the strongest attack reaches ROUGE-L ${fmt(Math.max(...atDeepest.map((x) => x.rougeL)))}: e.g. --defenses ${r.tradeoffs[0]!.defense}:0,0.5,1,2@${deepest}.`);
  }
  const tried = new Set(r.tradeoffs.map((t) => t.defense));
  const untried = DEFENSE_NAMES.filter((n) => !tried.has(n));
  if (untried.length) out.push(`Other defenses not tried here: ${untried.map((n) => `${n} (${LEVEL_MEANING[n]})`).join('; ')}.`);
  return out;
}

function recommendation(r: AuditResults, t: Thresholds, rows: VerdictRow[]): Recommendation {
  const all = configs(r, t);
  const protecting = all.map((c, i) => ({ c, i })).filter(({ c }) => c.protects)
    .sort((a, b) => (a.c.perplexity_ratio ?? Infinity) - (b.c.perplexity_ratio ?? Infinity) || a.c.rougeL - b.c.rougeL)
    .map(({ i }) => i);
  return { configs: all, protecting, next: protecting.length ? [] : nextSteps(r, all, rows) };
}

/** The verdict and recommendation of an audit's results under the given thresholds. */
export function summarize(r: AuditResults, t: Thresholds = DEFAULT_THRESHOLDS): AuditSummary {
  const v = verdict(r, t);
  return { thresholds: t, verdict: v, recommendation: recommendation(r, t, v.rows) };
}

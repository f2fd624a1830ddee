// Vega-Lite specifications of the report's charts (data inlined).
import type { TopLevelSpec } from 'vega-lite';
import type { AuditResults } from './types.js';
import { strongest } from './summary.js';

const WIDTH = 420;
const HEIGHT = 240;

export function leakageChart(r: AuditResults): TopLevelSpec | null {
  if (!r.leakage) return null;
  const rows = r.leakage.layers.flatMap((l) =>
    (['ksg', 'infonce', 'probe'] as const)
      .filter((k) => l[k] !== null && Number.isFinite(l[k]))
      .map((k) => ({ layer: l.layer, estimator: k, nats: l[k] as number })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Information about the input kept by each block (nats)',
    width: WIDTH, height: HEIGHT,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'layer', type: 'ordinal', title: 'block (0 = embeddings)' },
      y: { field: 'nats', type: 'quantitative', title: 'estimate (nats)' },
      color: { field: 'estimator', type: 'nominal' },
    },
  };
}

export function sparsityChart(r: AuditResults): TopLevelSpec | null {
  if (!r.leakage) return null;
  const rows = r.leakage.layers.flatMap((l) => [
    { layer: l.layer, measure: 'effective rank / d', value: l.effective_rank === null ? null : l.effective_rank / r.setup.dModel },
    { layer: l.layer, measure: 'near-zero fraction', value: l.sparsity },
  ]).filter((x) => x.value !== null);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Sparsity of each block’s representation',
    width: WIDTH, height: HEIGHT,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'layer', type: 'ordinal', title: 'block' },
      y: { field: 'value', type: 'quantitative', title: 'fraction' },
      color: { field: 'measure', type: 'nominal' },
    },
  };
}

/** One chart per scenario (the title names it), so a saturated number is never shown alone. */
export function attackChart(r: AuditResults, scenario: number, metric: 'rougeL' | 'exact_windows' | 'pii'): TopLevelSpec | null {
  const sc = r.attacks?.scenarios[scenario];
  if (!sc) return null;
  const rows = sc.splits.flatMap((s) =>
    Object.entries(s.attacks)
      .filter(([, a]) => a[metric] !== null)
      .map(([attack, a]) => ({ split: s.split, attack, value: a[metric] as number })),
  );
  const what = { rougeL: 'Reconstruction ROUGE-L F1', exact_windows: 'Windows recovered exactly', pii: 'PII recovered' }[metric];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `${what} per split point — ${sc.scenario.name}`, subtitle: sc.scenario.description },
    width: WIDTH, height: HEIGHT,
    data: { values: rows },
    mark: 'bar',
    encoding: {
      x: { field: 'split', type: 'ordinal', title: 'split point k' },
      xOffset: { field: 'attack' },
      y: { field: 'value', type: 'quantitative', title: metric === 'pii' ? 'share of PII spans' : metric === 'rougeL' ? 'ROUGE-L F1' : 'share of windows', scale: { domain: [0, 1] } },
      color: { field: 'attack', type: 'nominal' },
    },
  };
}

/** Whether the scenario's scored windows hold any PII span (else its PII chart would be empty). */
export function hasPiiSpans(r: AuditResults, scenario: number): boolean {
  return (r.attacks?.scenarios[scenario]?.splits ?? []).some((s) => Object.values(s.attacks).some((a) => a.pii !== null));
}

/**
 * Information per representation beside attack success per split point (split point k sends the
 * representation after block k), on the same x positions: does the cheap estimate predict the attacks?
 */
export function depthChart(r: AuditResults, scenario: number): TopLevelSpec | null {
  const sc = r.attacks?.scenarios[scenario];
  if (!sc) return null;
  const domain = Array.from({ length: r.setup.layers + 1 }, (_, i) => i);
  const attacks = sc.splits.flatMap((s) => {
    const top = strongest(s.attacks);
    return [
      ...Object.entries(s.attacks).map(([attack, a]) => ({ k: s.split, series: `${attack} ROUGE-L`, value: a.rougeL })),
      ...(top ? [{ k: s.split, series: `exact windows (${top[0]})`, value: top[1].exact_windows }] : []),
    ];
  });
  const attackPanel = {
    title: 'Attack success per split point',
    width: 300, height: 220,
    data: { values: attacks },
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'k', type: 'ordinal' as const, scale: { domain }, title: 'split point k' },
      y: { field: 'value', type: 'quantitative' as const, scale: { domain: [0, 1] }, title: 'share recovered' },
      color: { field: 'series', type: 'nominal' as const, title: 'attack', scale: { scheme: 'tableau10' } },
    },
  };
  const leak = (r.leakage?.layers ?? []).flatMap((l) =>
    (['ksg', 'infonce', 'probe'] as const).filter((e) => l[e] !== null && Number.isFinite(l[e])).map((e) => ({ k: l.layer, estimator: e, nats: l[e] as number })),
  );
  const title = { text: `Information against attack success, by depth — ${sc.scenario.name}`, subtitle: 'left: what each representation keeps about the input (pretrained model); right: what the attacks recover there' };
  if (!leak.length) return { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', ...attackPanel, title } as TopLevelSpec;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    hconcat: [
      {
        title: 'Information kept per representation',
        width: 300, height: 220,
        data: { values: leak },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'k', type: 'ordinal', scale: { domain }, title: 'representation k (0 = embeddings)' },
          y: { field: 'nats', type: 'quantitative', title: 'estimate (nats)' },
          color: { field: 'estimator', type: 'nominal', scale: { scheme: 'set2' } },
        },
      },
      attackPanel,
    ],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

/**
 * Every defense configuration tried: utility cost against the strongest attacker's ROUGE-L, the
 * configurations no other beats on both joined (the Pareto front), the protection threshold dashed.
 */
export function paretoChart(r: AuditResults): TopLevelSpec | null {
  const configs = (r.summary?.recommendation.configs ?? []).filter((c) => c.perplexity_ratio !== null);
  if (!configs.length) return null;
  const points = configs.map((c) => ({ cost: c.perplexity_ratio!, rougeL: c.rougeL, defense: `${c.defense} @ k=${c.split}`, level: c.level, attacker: `${c.attack} (${c.attacker})` }));
  const front: typeof points = [];
  for (const p of [...points].sort((a, b) => a.cost - b.cost || a.rougeL - b.rougeL)) {
    if (!front.length || p.rougeL < front.at(-1)!.rougeL) front.push(p);
  }
  const x = { field: 'cost', type: 'quantitative' as const, title: 'perplexity ÷ perplexity without defense (utility cost)', scale: { zero: false } };
  const y = { field: 'rougeL', type: 'quantitative' as const, title: 'strongest attack ROUGE-L', scale: { domain: [0, 1] } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'Privacy–utility across defenses', subtitle: 'every configuration tried; the line joins those no other beats on both axes; dashed: protection threshold' },
    width: WIDTH, height: HEIGHT,
    layer: [
      { data: { values: front }, mark: { type: 'line', color: '#888' }, encoding: { x, y } },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: { x, y, color: { field: 'defense', type: 'nominal' }, tooltip: [{ field: 'defense' }, { field: 'level' }, { field: 'attacker' }, { field: 'cost' }, { field: 'rougeL' }] },
      },
      { data: { values: [{ rougeL: r.summary!.thresholds.rougeL }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#2a2' }, encoding: { y: { field: 'rougeL', type: 'quantitative' } } },
    ],
  } as TopLevelSpec;
}

/** Naive and adaptive curves of each attack against perplexity; dashed: the protection threshold; dotted grey: chance (nothing recovered). */
export function tradeoffChart(t: AuditResults['tradeoffs'][number], threshold?: number): TopLevelSpec {
  const rows = t.levels.flatMap((l) =>
    Object.entries(l.attacks).flatMap(([attack, a]) => [
      { perplexity: l.perplexity, level: l.level, attack, attacker: 'naive', rougeL: a.naive.rougeL },
      { perplexity: l.perplexity, level: l.level, attack, attacker: 'adaptive', rougeL: a.adaptive.rougeL },
    ]),
  );
  const x = { field: 'perplexity', type: 'quantitative' as const, title: 'perplexity (utility, lower is better)', scale: { zero: false } };
  const y = { field: 'rougeL', type: 'quantitative' as const, title: 'attack ROUGE-L (leakage)', scale: { domain: [0, 1] } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `Privacy–utility: ${t.defense} at split ${t.split}`, subtitle: `${t.scenario.name}: ${t.scenario.description}` },
    width: WIDTH, height: HEIGHT,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', point: true },
        encoding: {
          x, y,
          color: { field: 'attack', type: 'nominal' },
          strokeDash: { field: 'attacker', type: 'nominal', title: 'attacker', sort: ['adaptive', 'naive'] },
          shape: { field: 'attacker', type: 'nominal', sort: ['adaptive', 'naive'] },
          tooltip: [{ field: 'level' }, { field: 'attack' }, { field: 'attacker' }, { field: 'perplexity' }, { field: 'rougeL' }],
        },
      },
      ...(threshold === undefined ? [] : [{ data: { values: [{ rougeL: threshold }] }, mark: { type: 'rule' as const, strokeDash: [4, 4], color: '#2a2' }, encoding: { y: { field: 'rougeL', type: 'quantitative' as const } } }]),
      ...(t.chance_rougeL == null ? [] : [{
        data: { values: [{ rougeL: t.chance_rougeL, what: 'chance: another window of the text' }] },
        mark: { type: 'rule' as const, strokeDash: [1, 3], color: '#888' },
        encoding: { y: { field: 'rougeL', type: 'quantitative' as const }, tooltip: [{ field: 'what' }, { field: 'rougeL' }] },
      }]),
    ],
  } as TopLevelSpec;
}

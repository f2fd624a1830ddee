// Vega-Lite specifications of the report's charts (data inlined).
import type { TopLevelSpec } from 'vega-lite';
import type { AuditResults } from './types.js';

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

export function tradeoffChart(t: AuditResults['tradeoffs'][number]): TopLevelSpec {
  const rows = t.levels.flatMap((l) =>
    Object.entries(l.attacks).flatMap(([attack, a]) => [
      { perplexity: l.perplexity, level: l.level, attacker: `${attack} (naive)`, rougeL: a.naive.rougeL },
      { perplexity: l.perplexity, level: l.level, attacker: `${attack} (adaptive)`, rougeL: a.adaptive.rougeL },
    ]),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `Privacy–utility: ${t.defense} at split ${t.split}`, subtitle: `${t.scenario.name}: ${t.scenario.description}` },
    width: WIDTH, height: HEIGHT,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'perplexity', type: 'quantitative', title: 'perplexity (utility, lower is better)', scale: { zero: false } },
      y: { field: 'rougeL', type: 'quantitative', title: 'attack ROUGE-L (leakage)', scale: { domain: [0, 1] } },
      color: { field: 'attacker', type: 'nominal' },
      tooltip: [{ field: 'level' }, { field: 'perplexity' }, { field: 'rougeL' }],
    },
  };
}

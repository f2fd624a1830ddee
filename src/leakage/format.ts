// The human-readable per-layer table of a LeakageReport.
import type { LeakageReport, LayerLeakage } from './analyze.js';

const COLUMNS: [keyof LayerLeakage, string, number][] = [
  ['layer', 'layer', 0],
  ['ksg', 'ksg', 3],
  ['infonce', 'infonce', 3],
  ['probe', 'probe', 3],
  ['entropy', 'entropy', 2],
  ['effective_rank', 'eff_rank', 2],
  ['sparsity', 'sparsity', 4],
  ['kurtosis', 'kurtosis', 2],
  ['pca_variance', 'pca_var', 3],
];

export function formatLeakageTable(r: LeakageReport): string {
  const used = COLUMNS.filter(([key]) => key === 'layer' || r.layers.some((l) => l[key] !== null));
  const cell = (v: number | null, digits: number) => (v === null ? '-' : Number.isFinite(v) ? v.toFixed(digits) : String(v));
  const table = [used.map(([, title]) => title), ...r.layers.map((l) => used.map(([key, , d]) => cell(l[key], d)))];
  const widths = used.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) => row.map((v, c) => v.padStart(widths[c]!)).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return [
    `model ${r.model}: ${r.tokens} tokens, seed ${r.seed}; layer l = hidden state after l blocks (split point)`,
    ...lines,
    `mutual information in nats: ksg ~ I(E; H_l), infonce <= I(E; H_l)${r.infonce_cap === null ? '' : ` (and <= log B = ${r.infonce_cap.toFixed(3)})`}, ` +
      `probe <= I(X; H_l) <= H(X) = ${r.h_x.toFixed(3)} (plug-in, held-out tokens)`,
    ...(r.pca_variance_e === null ? [] : [`pca_var: share of H_l's variance in the PCA components ksg/entropy use (E: ${r.pca_variance_e.toFixed(3)})`]),
  ].join('\n');
}

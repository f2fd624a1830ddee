import type { AuditResults, AttackScore } from './types.js';
import { attackChart, depthChart, hasPiiSpans, leakageChart, paretoChart, sparsityChart, tradeoffChart } from './charts.js';
import { renderSvg } from './svg.js';
import { esc, highlight, markPii, num, pct, val } from './html_util.js';
import { recommendationSection, triedSection, verdictSection } from './summary_html.js';

export interface RenderOptions {
  /** The command that reproduces the report, shown at its top. */
  command: string;
}

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0}mark.pii{background:#fe8}mark.pii.hit{background:#fbb}mark.pii.miss{background:#dde}
.ex td{text-align:left;vertical-align:top;max-width:480px;white-space:pre-wrap}
.note{color:#555;font-size:.9em}
.reproduce code{background:#f4f4f4;padding:.2em .4em}
.badge{display:inline-block;padding:0 .5em;border-radius:.3em;color:#fff;font-weight:600;font-size:.85em}
.badge.red{background:#c62828}.badge.amber{background:#e69500}.badge.green{background:#2e7d32}
section#verdict,section#recommendation{border:1px solid #ccc;border-radius:.4em;padding:0 1em 1em;margin:1em 0}
section#verdict.red{border-left:8px solid #c62828}section#verdict.amber{border-left:8px solid #e69500}section#verdict.green{border-left:8px solid #2e7d32}
.headline{font-size:1.15em}.verdict-rows{list-style:none;padding-left:0}.verdict-rows li{margin:.3em 0}
tr.ok td{background:#eef7ee}.none{font-size:1.1em}.best{font-size:1.1em}
dl.tried dt{font-weight:600;margin-top:.5em}dl.tried dd{margin-left:1.5em}.needs{color:#555}
.chart-note{max-width:420px;border:1px dashed #bbb;padding:.5em;color:#555}`;

function attackTable(r: AuditResults, si: number): string {
  const sc = r.attacks?.scenarios[si];
  if (!sc) return '';
  const names = [...new Set(sc.splits.flatMap((s) => [...Object.keys(s.attacks), ...Object.keys(s.not_applicable ?? {})]))];
  const base = `attacks.scenarios.${si}`;
  const head = `<tr><th>split k</th><th>drift</th>${names.map((n) => `<th colspan="5">${esc(n)}</th>`).join('')}</tr>` +
    `<tr><th></th><th></th>${names.map(() => '<th>ROUGE-L</th><th>exact</th><th>BLEU</th><th>PII</th><th>PII spans</th>').join('')}</tr>`;
  const rows = sc.splits.map((s, i) => {
    const cells = names.map((n) => {
      const a: AttackScore | undefined = s.attacks[n];
      const k = `${base}.splits.${i}.attacks.${n}`;
      if (!a) return `<td colspan="5" class="l" title="${esc(s.not_applicable?.[n] ?? '')}">not applicable</td>`;
      const spans = a.pii_spans ? `<td>${val(a.pii_spans.recovered, `${k}.pii_spans.recovered`)}/${val(a.pii_spans.total, `${k}.pii_spans.total`)}</td>` : '<td>–</td>';
      return num(a.rougeL, `${k}.rougeL`) + num(a.exact_windows, `${k}.exact_windows`) + num(a.bleu, `${k}.bleu`) + num(a.pii, `${k}.pii`) + spans;
    });
    return `<tr><td data-key="${base}.splits.${i}.split" data-value="${s.split}">${s.split}</td>${num(s.drift, `${base}.splits.${i}.drift`)}${cells.join('')}</tr>`;
  });
  const budgets = sc.splits.flatMap((s, i) =>
    Object.entries(s.budgets ?? {}).map(([n, b]) => {
      const k = `${base}.splits.${i}.budgets.${n}`;
      return `<tr><td>${s.split}</td><td class="l">${esc(n)}</td>${num(b.examples, `${k}.examples`, 0)}${num(b.steps, `${k}.steps`, 0)}${num(b.parameters, `${k}.parameters`, 0)}${num(b.seconds, `${k}.seconds`, 1)}${num(b.invert_seconds, `${k}.invert_seconds`, 1)}${num(s.attacks[n]?.adaptation?.drift_left, `${base}.splits.${i}.attacks.${n}.adaptation.drift_left`)}</tr>`;
    }),
  );
  const v = sc.victim;
  return `<h3>Scenario ${esc(sc.scenario.name)}</h3><p class="note">${esc(sc.scenario.description)}. Scored: ${v.segments} of ${v.of} windows of ≤ ${v.maxTokens} tokens (${esc(v.method)}, seed ${v.seed}). Drift: relative L2 distance of the victim's H_k from the pretrained part's.${v.chance_rougeL == null ? '' : ` Chance: each window scored against another of them gets ROUGE-L ${val(v.chance_rougeL, `${base}.victim.chance_rougeL`, 3)}; a score near it means nothing was recovered.`}${v.near_copy_share ? ` ${pct(v.near_copy_share, `${base}.victim.near_copy_share`, 1)} of the scored tokens have a near-copy among the model's input embeddings, which caps exact recovery under drift.` : ''}</p>` +
    `<table class="attack-table" id="attack-table-${si}">${head}${rows.join('')}</table>` +
    (budgets.length ? `<table class="budget-table" id="budget-table-${si}"><tr><th>split</th><th class="l">attack</th><th>training examples</th><th>steps</th><th>parameters</th><th>training s</th><th>inversion s</th><th title="relative L2 between the victim's H_k and the attack's estimate of its device part (adapter estimation); – when it made none">drift left</th></tr>${budgets.join('')}</table>` : '');
}

function leakageTable(r: AuditResults): string {
  if (!r.leakage) return '';
  const cols = ['ksg', 'infonce', 'probe', 'entropy', 'effective_rank', 'sparsity'] as const;
  const rows = r.leakage.layers.map((l, i) =>
    `<tr><td data-key="leakage.layers.${i}.layer" data-value="${l.layer}">${l.layer}</td>${cols.map((c) => num(l[c], `leakage.layers.${i}.${c}`)).join('')}</tr>`,
  );
  return `<table id="leakage-table"><tr><th>block</th><th>KSG I(E;H)</th><th>InfoNCE I(E;H)</th><th>probe I(X;H)</th><th>entropy h(H)</th><th>effective rank</th><th>near-zero fraction</th></tr>${rows.join('')}</table>`;
}

function tradeoffTables(r: AuditResults): string {
  return r.tradeoffs.map((t, ti) => {
    const names = [...new Set(t.levels.flatMap((l) => Object.keys(l.attacks)))];
    const rows = t.levels.map((l, li) => {
      const k = `tradeoffs.${ti}.levels.${li}`;
      const cells = names.map((n) => {
        const a = l.attacks[n];
        return a ? num(a.naive.rougeL, `${k}.attacks.${n}.naive.rougeL`) + num(a.adaptive.rougeL, `${k}.attacks.${n}.adaptive.rougeL`) : '<td>–</td><td>–</td>';
      });
      return `<tr>${num(l.level, `${k}.level`)}${num(l.perplexity, `${k}.perplexity`, 2)}${num(l.epsilon, `${k}.epsilon`, 2)}${cells.join('')}</tr>`;
    });
    const chance = t.chance_rougeL == null ? '' : `<p class="note">Chance (each scored window against another of them): ROUGE-L ${val(t.chance_rougeL, `tradeoffs.${ti}.chance_rougeL`, 3)}.</p>`;
    return `<h3>${esc(t.defense)} (split ${t.split}, scenario ${esc(t.scenario.name)})</h3>${chance}<table class="tradeoff-table"><tr><th>level</th><th>perplexity</th><th>ε</th>${names.map((n) => `<th>${esc(n)} naive</th><th>${esc(n)} adaptive</th>`).join('')}</tr>${rows.join('')}</table>`;
  }).join('');
}

/** Per scenario: each shown window once, with every attack's reconstruction beside it. */
function examplesTables(r: AuditResults): string {
  const scenarios = [...new Set(r.examples.map((e) => e.scenario))];
  return scenarios.map((name, si) => {
    const mine = r.examples.filter((e) => e.scenario === name);
    const attacks = [...new Set(mine.map((e) => e.attack))];
    const windows = new Map<string, typeof mine>();
    for (const e of mine) {
      const key = `${e.split}|${e.window ?? e.original}`;
      windows.set(key, [...(windows.get(key) ?? []), e]);
    }
    const rows = [...windows.values()].map((es) => {
      const first = es[0]!;
      const cells = attacks.map((a) => {
        const e = es.find((x) => x.attack === a);
        return `<td>${e ? highlight(e.original, e.reconstruction).rec : '–'}</td>`;
      });
      const why = first.chosen === 'pii' ? 'holds PII' : first.chosen === 'longest' ? 'long' : '';
      return `<tr><td>${first.split}</td><td class="l">${why}</td><td>${markPii(first.original)}</td>${cells.join('')}</tr>`;
    });
    return `<h3>${esc(name)}</h3><table class="ex" id="examples-table-${si}"><tr><th>k</th><th class="l">shown because</th><th class="l">original (victim)</th>${attacks.map((a) => `<th class="l">${esc(a)}</th>`).join('')}</tr>${rows.join('')}</table>`;
  }).join('');
}

async function figure(spec: Parameters<typeof renderSvg>[0] | null, id: string): Promise<string> {
  if (!spec) return '';
  return `<figure class="chart" id="${id}">${await renderSvg(spec)}</figure>`;
}

/** The PII chart of a scenario, or why there is none: an empty chart would say nothing. */
async function piiFigure(r: AuditResults, i: number): Promise<string> {
  if (hasPiiSpans(r, i)) return figure(attackChart(r, i, 'pii'), `chart-pii-${i}`);
  const sc = r.attacks!.scenarios[i]!;
  return `<p class="chart-note" id="chart-pii-${i}-note"><strong>No PII chart for ${esc(sc.scenario.name)}:</strong> none of the ${sc.victim.segments} scored windows holds a PII span the detector knows ` +
    '(e-mail addresses, phone numbers, runs of digits, URLs, IP addresses, dates, and names from its list or named by a cue such as “From:”, “Hi”, “Thanks,” or a signature). ' +
    'There was nothing personal to recover in this sample; the examples below show PII wherever the victim text has any.</p>';
}

export const THREAT_MODEL =
  'The server is honest-but-curious: it sees the hidden states H_k(x) that the device sends for its private text x ' +
  '(and, in fine-tuning, the gradients it returns), knows the architecture and pretrained weights of the device part, ' +
  'and holds an auxiliary public text set disjoint from the victim’s. It never sees x. Every attack is trained only on ' +
  'auxiliary data and scored only on victim data.';

/** The self-contained report page (inline SVG charts, no scripts, no network). */
export async function renderReport(r: AuditResults, o: RenderOptions = { command: 'revertlm audit --config config.json' }): Promise<string> {
  const s = r.setup;
  const scenarios = r.attacks?.scenarios ?? [];
  const depth = (await Promise.all(scenarios.map((_, i) => figure(depthChart(r, i), `chart-depth-${i}`)))).join('');
  const attackCharts = (await Promise.all(scenarios.flatMap((_, i) => [
    figure(attackChart(r, i, 'rougeL'), `chart-rouge-${i}`),
    figure(attackChart(r, i, 'exact_windows'), `chart-exact-${i}`),
    piiFigure(r, i),
  ]))).join('');
  const tradeoffCharts = [
    await figure(paretoChart(r), 'chart-pareto'),
    ...(await Promise.all(r.tradeoffs.map((t, i) => figure(tradeoffChart(t, r.summary?.thresholds.rougeL), `chart-tradeoff-${i}`)))),
  ].join('');
  const leakCharts = [await figure(leakageChart(r), 'chart-leakage'), await figure(sparsityChart(r), 'chart-sparsity')].join('');
  const timings = Object.entries(r.timings).map(([k, v]) => `<tr><td class="l">${esc(k)}</td>${num(v, `timings.${k}`, 1)}</tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>revertlm audit — ${esc(s.model)}</title><style>${STYLE}</style></head><body>
<h1>Split-learning leakage audit</h1>
<p class="reproduce">Reproduce this report: <code id="reproduce">${esc(o.command)}</code></p>
<p class="note">Generated by revertlm on ${esc(r.created)} for ${esc(s.model)}. Every number is in <code>results.json</code> beside this page.</p>
${verdictSection(r)}
${recommendationSection(r)}
${triedSection(r)}
<h2>Setup</h2>
<table id="setup-table">
<tr><th class="l">model</th><td class="l">${esc(s.model)} (${esc(s.family)}, ${s.layers} blocks, d ${s.dModel}, vocab ${s.vocab}, ${s.parameters.toLocaleString('en')} parameters)</td></tr>
<tr><th class="l">split points</th><td class="l">${s.splits.join(', ')}</td></tr>
<tr><th class="l">auxiliary data (attacker)</th><td class="l">${esc(s.auxSource)}: ${s.auxSamples} samples</td></tr>
<tr><th class="l">victim data</th><td class="l">${esc(s.victimSource)}: ${s.victimSamples} texts</td></tr>
</table>
<p><strong>Threat model.</strong> ${esc(THREAT_MODEL)}</p>
${depth ? `<h2>Depth: information against attack success</h2><p class="note">Split point k sends the representation after block k. If the cheap estimate on the left predicts the attacks, both fall together with depth.</p><div class="charts">${depth}</div>` : ''}
${r.attacks ? `<h2>Attacks per split point</h2><div class="charts">${attackCharts}</div>${scenarios.map((_, i) => attackTable(r, i)).join('')}` : ''}
${r.tradeoffs.length ? `<h2>Privacy–utility trade-off</h2><p class="note">Naive attackers are trained on clean auxiliary data; adaptive ones on auxiliary data passed through the same defense.</p><div class="charts">${tradeoffCharts}</div>${tradeoffTables(r)}` : ''}
${r.leakage ? `<h2>Information per block</h2><div class="charts">${leakCharts}</div><p class="note">${r.leakage.tokens} tokens; estimates in nats.</p>${leakageTable(r)}` : ''}
${r.examples.length ? `<h2>Reconstructed examples</h2><p class="note">Windows shown for what they tell (those holding PII, then the longest; seeded), one row per window with every attack's reconstruction; the scores above come from the seeded uniform sample. PII in the original is <mark class="pii">marked</mark>; in each reconstruction the spans it recovered are <mark class="pii hit">marked</mark>.</p>${examplesTables(r)}` : ''}
<h2>Time taken</h2>${r.resumed ? `<p class="note" id="resumed">${r.resumed} attack results were kept from an interrupted run of this audit (resumed); their scores and seconds are that run's, the times below this run's only.</p>` : ''}<table id="timings-table"><tr><th class="l">part</th><th>seconds</th></tr>${timings}</table>
</body></html>
`;
}

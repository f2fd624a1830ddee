import { extractPii, isSpanRecovered } from '../metrics/index.js';
import type { AuditResults, AttackScore } from './types.js';
import { attackChart, leakageChart, sparsityChart, tradeoffChart } from './charts.js';
import { renderSvg } from './svg.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A number cell tagged with its path in results.json, so the page can be checked against the file. */
function num(v: number | null | undefined, key: string, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return `<td data-key="${esc(key)}" data-value="null">–</td>`;
  return `<td data-key="${esc(key)}" data-value="${v}">${v.toFixed(digits)}</td>`;
}

function highlight(original: string, reconstruction: string): { orig: string; rec: string } {
  const spans = extractPii(original);
  let orig = '';
  let at = 0;
  const recovered: string[] = [];
  for (const s of spans) {
    const ok = isSpanRecovered(s, reconstruction);
    if (ok) recovered.push(s.text);
    orig += esc(original.slice(at, s.start));
    orig += `<mark class="pii ${ok ? 'hit' : 'miss'}" title="${s.kind}${ok ? ' — recovered' : ' — not recovered'}">${esc(s.text)}</mark>`;
    at = s.end;
  }
  orig += esc(original.slice(at));
  let rec = esc(reconstruction);
  for (const t of new Set(recovered)) rec = rec.split(esc(t)).join(`<mark class="pii hit">${esc(t)}</mark>`);
  return { orig, rec };
}

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0}mark.pii.hit{background:#fbb}mark.pii.miss{background:#dde}
.ex td{text-align:left;vertical-align:top;max-width:480px;white-space:pre-wrap}
.note{color:#555;font-size:.9em}`;

function attackTable(r: AuditResults, si: number): string {
  const sc = r.attacks?.scenarios[si];
  if (!sc) return '';
  const names = [...new Set(sc.splits.flatMap((s) => [...Object.keys(s.attacks), ...Object.keys(s.not_applicable ?? {})]))];
  const base = `attacks.scenarios.${si}`;
  const head = `<tr><th>split k</th><th>drift</th>${names.map((n) => `<th colspan="4">${esc(n)}</th>`).join('')}</tr>` +
    `<tr><th></th><th></th>${names.map(() => '<th>ROUGE-L</th><th>exact</th><th>BLEU</th><th>PII</th>').join('')}</tr>`;
  const rows = sc.splits.map((s, i) => {
    const cells = names.map((n) => {
      const a: AttackScore | undefined = s.attacks[n];
      const k = `${base}.splits.${i}.attacks.${n}`;
      if (!a) return `<td colspan="4" class="l" title="${esc(s.not_applicable?.[n] ?? '')}">not applicable</td>`;
      return num(a.rougeL, `${k}.rougeL`) + num(a.exact_windows, `${k}.exact_windows`) + num(a.bleu, `${k}.bleu`) + num(a.pii, `${k}.pii`);
    });
    return `<tr><td data-key="${base}.splits.${i}.split" data-value="${s.split}">${s.split}</td>${num(s.drift, `${base}.splits.${i}.drift`)}${cells.join('')}</tr>`;
  });
  const budgets = sc.splits.flatMap((s, i) =>
    Object.entries(s.budgets ?? {}).map(([n, b]) => {
      const k = `${base}.splits.${i}.budgets.${n}`;
      return `<tr><td>${s.split}</td><td class="l">${esc(n)}</td>${num(b.examples, `${k}.examples`, 0)}${num(b.steps, `${k}.steps`, 0)}${num(b.parameters, `${k}.parameters`, 0)}${num(b.seconds, `${k}.seconds`, 1)}</tr>`;
    }),
  );
  const v = sc.victim;
  return `<h3>Scenario ${esc(sc.scenario.name)}</h3><p class="note">${esc(sc.scenario.description)}. Scored: ${v.segments} of ${v.of} windows of ≤ ${v.maxTokens} tokens (${esc(v.method)}, seed ${v.seed}). Drift: relative L2 distance of the victim's H_k from the pretrained part's.</p>` +
    `<table class="attack-table" id="attack-table-${si}">${head}${rows.join('')}</table>` +
    (budgets.length ? `<table class="budget-table" id="budget-table-${si}"><tr><th>split</th><th class="l">attack</th><th>training examples</th><th>steps</th><th>parameters</th><th>seconds</th></tr>${budgets.join('')}</table>` : '');
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
    return `<h3>${esc(t.defense)} (split ${t.split}, scenario ${esc(t.scenario.name)})</h3><table class="tradeoff-table"><tr><th>level</th><th>perplexity</th><th>ε</th>${names.map((n) => `<th>${esc(n)} naive</th><th>${esc(n)} adaptive</th>`).join('')}</tr>${rows.join('')}</table>`;
  }).join('');
}

function examplesTable(r: AuditResults): string {
  if (!r.examples.length) return '';
  const rows = r.examples.map((e) => {
    const h = highlight(e.original, e.reconstruction);
    return `<tr><td class="l">${esc(e.scenario)}</td><td>${e.split}</td><td>${esc(e.attack)}</td><td>${h.orig}</td><td>${h.rec}</td></tr>`;
  });
  return `<p class="note">PII in the original is marked: <mark class="pii hit">recovered by the attack</mark>, <mark class="pii miss">not recovered</mark>.</p><table class="ex" id="examples-table"><tr><th class="l">scenario</th><th>k</th><th>attack</th><th>original (victim)</th><th>reconstruction</th></tr>${rows.join('')}</table>`;
}

async function figure(spec: Parameters<typeof renderSvg>[0] | null, id: string): Promise<string> {
  if (!spec) return '';
  return `<figure class="chart" id="${id}">${await renderSvg(spec)}</figure>`;
}

export const THREAT_MODEL =
  'The server is honest-but-curious: it sees the hidden states H_k(x) that the device sends for its private text x ' +
  '(and, in fine-tuning, the gradients it returns), knows the architecture and pretrained weights of the device part, ' +
  'and holds an auxiliary public text set disjoint from the victim’s. It never sees x. Every attack is trained only on ' +
  'auxiliary data and scored only on victim data.';

/** The self-contained report page (inline SVG charts, no scripts, no network). */
export async function renderReport(r: AuditResults): Promise<string> {
  const s = r.setup;
  const charts = [
    await figure(leakageChart(r), 'chart-leakage'),
    await figure(sparsityChart(r), 'chart-sparsity'),
    ...(await Promise.all((r.attacks?.scenarios ?? []).flatMap((_, i) => [
      figure(attackChart(r, i, 'rougeL'), `chart-rouge-${i}`),
      figure(attackChart(r, i, 'exact_windows'), `chart-exact-${i}`),
      figure(attackChart(r, i, 'pii'), `chart-pii-${i}`),
    ]))),
    ...(await Promise.all(r.tradeoffs.map((t, i) => figure(tradeoffChart(t), `chart-tradeoff-${i}`)))),
  ].join('');
  const timings = Object.entries(r.timings).map(([k, v]) => `<tr><td class="l">${esc(k)}</td>${num(v, `timings.${k}`, 1)}</tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>revertlm audit — ${esc(s.model)}</title><style>${STYLE}</style></head><body>
<h1>Split-learning leakage audit</h1>
<p class="note">Generated by revertlm on ${esc(r.created)}. Numbers are in <code>results.json</code> beside this page.</p>
<h2>Setup</h2>
<table id="setup-table">
<tr><th class="l">model</th><td class="l">${esc(s.model)} (${esc(s.family)}, ${s.layers} blocks, d ${s.dModel}, vocab ${s.vocab}, ${s.parameters.toLocaleString('en')} parameters)</td></tr>
<tr><th class="l">split points</th><td class="l">${s.splits.join(', ')}</td></tr>
<tr><th class="l">auxiliary data (attacker)</th><td class="l">${esc(s.auxSource)}: ${s.auxSamples} samples</td></tr>
<tr><th class="l">victim data</th><td class="l">${esc(s.victimSource)}: ${s.victimSamples} texts</td></tr>
</table>
<p><strong>Threat model.</strong> ${esc(THREAT_MODEL)}</p>
<h2>Charts</h2><div class="charts">${charts}</div>
${r.leakage ? `<h2>Information per block</h2><p class="note">${r.leakage.tokens} tokens; estimates in nats.</p>${leakageTable(r)}` : ''}
${r.attacks ? `<h2>Attacks per split point</h2>${r.attacks.scenarios.map((_, i) => attackTable(r, i)).join('')}` : ''}
${r.tradeoffs.length ? `<h2>Privacy–utility trade-off</h2><p class="note">Naive attackers are trained on clean auxiliary data; adaptive ones on auxiliary data passed through the same defense.</p>${tradeoffTables(r)}` : ''}
${r.examples.length ? `<h2>Reconstructed examples</h2>${examplesTable(r)}` : ''}
<h2>Time taken</h2><table id="timings-table"><tr><th class="l">part</th><th>seconds</th></tr>${timings}</table>
</body></html>
`;
}

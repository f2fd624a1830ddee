// The sections the report leads with: the verdict (what a curious server recovers, rated), the
// recommendation (which defense configurations protect, at what utility cost), and what was tried
// (two lines per attack and per scenario).
import type { AuditResults, Rating, Thresholds, VerdictRow } from './types.js';
import { attackLines, scenarioLines } from './describe.js';
import { esc, highlight, num, pct, txt, val } from './html_util.js';

const HEADLINE: Record<Rating, string> = {
  red: 'a curious server reads most of this text.',
  amber: 'a curious server recovers a substantial part of this text, though not most of it.',
  green: 'at every split point and in every scenario tried, the strongest attack stays below the protection threshold.',
};

const badge = (r: Rating) => `<span class="badge ${r}">${r.toUpperCase()}</span>`;

export function thresholdsNote(t: Thresholds): string {
  return `<p class="note thresholds">Ratings of the strongest attack: ${badge('green')} below ROUGE-L ${t.rougeL} and at most ${Math.round(t.pii * 100)}% of the PII spans recovered (protected); ` +
    `${badge('red')} ROUGE-L ≥ ${t.red.rougeL} or ≥ ${Math.round(t.red.pii * 100)}% of the PII spans; ${badge('amber')} in between. ` +
    'Set the protection threshold with <code>--threshold-rouge-l</code> and <code>--threshold-pii</code> (or <code>thresholds</code> in config.json).</p>';
}

function verdictSentence(x: VerdictRow, i: number): string {
  const k = `summary.verdict.rows.${i}`;
  const pii = x.pii_spans
    ? x.pii_spans.total > 0
      ? `${val(x.pii_spans.recovered, `${k}.pii_spans.recovered`)} of ${val(x.pii_spans.total, `${k}.pii_spans.total`)} PII spans`
      : 'no PII span (the scored windows hold none the detector knows)'
    : x.pii === null ? 'no PII span (none in the scored windows)' : `${pct(x.pii, `${k}.pii`)} of the PII spans`;
  return `<li>${badge(x.rating)} At split point k = ${val(x.split, `${k}.split`)}, with <strong>${esc(x.attack)}</strong>, a curious server recovers ` +
    `${pct(x.token_acc, `${k}.token_acc`)} of the words in place, ${pct(x.exact_windows, `${k}.exact_windows`)} of the windows exactly and ${pii} ` +
    `(ROUGE-L ${val(x.rougeL, `${k}.rougeL`, 3)}).</li>`;
}

function exampleBlock(r: AuditResults, idx: number): string {
  const e = r.examples[idx]!;
  const h = highlight(e.original, e.reconstruction);
  const p = e.pii_spans && e.pii_spans.total > 0
    ? ` — ${val(e.pii_spans.recovered, `examples.${idx}.pii_spans.recovered`)} of ${val(e.pii_spans.total, `examples.${idx}.pii_spans.total`)} PII spans recovered`
    : '';
  return `<div class="example"><p class="note">${esc(e.scenario)}, split point k = ${val(e.split, `examples.${idx}.split`)}, ${esc(e.attack)}${p}</p>` +
    `<table class="ex"><tr><th class="l">the device sent</th><th class="l">the server reconstructed</th></tr><tr><td>${h.orig}</td><td>${h.rec}</td></tr></table></div>`;
}

export function verdictSection(r: AuditResults): string {
  const s = r.summary;
  if (!s) return '';
  const v = s.verdict;
  const scenarios = [...new Set(v.rows.map((x) => x.scenario))];
  const perScenario = scenarios.map((name) => {
    const rows = v.rows.map((x, i) => ({ x, i })).filter(({ x }) => x.scenario === name);
    const info = r.attacks?.scenarios.find((sc) => sc.scenario.name === name);
    return `<h3>${esc(name)}</h3>${info ? `<p class="note">${esc(info.scenario.description)}</p>` : ''}<ul class="verdict-rows">${rows.map(({ x, i }) => verdictSentence(x, i)).join('')}</ul>`;
  });
  const examples = v.examples.map((i) => exampleBlock(r, i)).join('');
  return `<section id="verdict" class="verdict ${v.rating}"><h2>Verdict: ${badge(v.rating)}</h2>` +
    `<p class="headline">${badge(v.rating)} ${HEADLINE[v.rating]}</p>` +
    (v.rows.length ? '' : '<p>No attack ran, so there is nothing to rate.</p>') +
    `${perScenario.join('')}${thresholdsNote(s.thresholds)}` +
    (examples ? `<h3>Two of the windows, as the server reconstructs them</h3><p class="note">PII in the original is marked <mark class="pii hit">recovered</mark> or <mark class="pii miss">not recovered</mark>.</p>${examples}` : '') +
    '</section>';
}

export function recommendationSection(r: AuditResults): string {
  const s = r.summary;
  if (!s) return '';
  const rec = s.recommendation;
  const t = s.thresholds;
  const attacks = [...new Set(r.tradeoffs.flatMap((tr) => tr.levels.flatMap((l) => Object.keys(l.attacks))))];
  const intro = `<p class="note">Protected: the strongest attacker against the defended traffic — naive (trained on clean activations) or adaptive (trained with the defense simulated), whichever recovers more — ` +
    `stays below ROUGE-L ${t.rougeL} and recovers at most ${Math.round(t.pii * 100)}% of the PII spans (windows without PII are judged on ROUGE-L alone). ` +
    `Utility cost: perplexity on held-out victim text over the perplexity without the defense (level 0).${attacks.length ? ` Attacks tried against the defenses: ${attacks.map(esc).join(', ')}.` : ''}</p>`;
  const exactCurves = r.tradeoffs.filter((tr) => (tr.scenario.settings as { knowledge?: string }).knowledge === 'exact').map((tr) => tr.scenario.name);
  const conservative = exactCurves.length
    ? `<p class="note">Curves in scenario ${[...new Set(exactCurves)].map(esc).join(', ')} give the attacker the device’s exact weights: a configuration that protects there also holds against a server that knows less (a personalized device).</p>`
    : '';
  const row = (i: number, cls = '') => {
    const c = rec.configs[i]!;
    const k = `summary.recommendation.configs.${i}`;
    return `<tr${cls}>${num(c.split, `${k}.split`, 0)}<td class="l">${esc(c.scenario)}</td><td class="l">${esc(c.defense)}</td>${num(c.level, `${k}.level`, 2)}<td class="l">${esc(c.attack)} (${c.attacker})</td>` +
      `${num(c.rougeL, `${k}.rougeL`)}${num(c.pii, `${k}.pii`)}${num(c.perplexity, `${k}.perplexity`, 2)}${num(c.perplexity_ratio, `${k}.perplexity_ratio`, 2)}<td class="l">${c.protects ? 'yes' : 'no'}</td></tr>`;
  };
  const head = '<tr><th>split k</th><th class="l">scenario</th><th class="l">defense</th><th>level</th><th class="l">strongest attacker</th><th>ROUGE-L</th><th>PII</th><th>perplexity</th><th>cost ×</th><th class="l">protects</th></tr>';
  let body: string;
  if (!rec.configs.length) {
    body = '<p class="none"><strong>No defense was tried, so no configuration can be recommended.</strong></p>';
  } else if (rec.protecting.length) {
    const best = rec.configs[rec.protecting[0]!]!;
    const k = `summary.recommendation.configs.${rec.protecting[0]}`;
    body = `<p class="best"><strong>Use ${esc(best.defense)} at level ${val(best.level, `${k}.level`, 2)} with split point k = ${val(best.split, `${k}.split`)}</strong>` +
      `${best.perplexity_ratio === null ? '' : `: it costs ${val(best.perplexity_ratio, `${k}.perplexity_ratio`, 2)}× the perplexity`}, and the strongest attacker (${esc(best.attack)}, ${best.attacker}) reaches ROUGE-L ${val(best.rougeL, `${k}.rougeL`, 3)}.</p>` +
      `<p>${rec.protecting.length} of ${rec.configs.length} configurations tried protect this text, the cheapest first:</p>` +
      `<table id="recommendation-table">${head}${rec.protecting.map((i) => row(i)).join('')}</table>`;
  } else {
    body = '<p class="none"><strong>None of the tried configurations protects this text.</strong></p>';
  }
  const next = rec.next.length ? `<p>What to try next:</p><ul class="next">${rec.next.map((x, i) => txt(x, `summary.recommendation.next.${i}`, 'li')).join('')}</ul>` : '';
  const all = rec.configs.length ? `<h3>Every configuration tried</h3><table id="configs-table">${head}${rec.configs.map((_, i) => row(i, rec.configs[i]!.protects ? ' class="ok"' : '')).join('')}</table>` : '';
  return `<section id="recommendation"><h2>Recommendation</h2>${intro}${conservative}${body}${next}${all}</section>`;
}

export function triedSection(r: AuditResults): string {
  const names = [...new Set((r.attacks?.scenarios ?? []).flatMap((sc) => sc.splits.flatMap((s) => [...Object.keys(s.attacks), ...Object.keys(s.not_applicable ?? {})])))];
  const attacks = names.map((n) => {
    const l = attackLines(n);
    return `<dt>${esc(n)}</dt><dd>${esc(l.what)}<br><span class="needs">${esc(l.needs)}</span></dd>`;
  });
  const scenarios = (r.attacks?.scenarios ?? []).map((sc) => {
    const l = scenarioLines(sc.scenario);
    return `<dt>${esc(sc.scenario.name)}</dt><dd>${esc(l.what)}<br><span class="needs">${esc(l.needs)}</span></dd>`;
  });
  return `<h2 id="tried">What was tried</h2><h3>Attacks</h3><dl class="tried" id="attack-list">${attacks.join('')}</dl>` +
    `<h3>Scenarios</h3><dl class="tried" id="scenario-list">${scenarios.join('')}</dl>`;
}

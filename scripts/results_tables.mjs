#!/usr/bin/env node
// Prints the README's result tables (Markdown) from results/*.json, so the figures quoted in the README
// are the recorded ones, never typed by hand. Usage: node scripts/results_tables.mjs [name …]
import { existsSync, readdirSync } from 'node:fs';
import { f2, f3, readResult, resultsDir, scenariosOf } from './results_lib.mjs';

function provenance(r) {
  return `\`${r.command}\` (commit ${r.commit.slice(0, 7)}${r.dirty ? '+' : ''}, ${r.date.slice(0, 10)}, ${r.machine.cores} cores, load ${r.machine.load_before.toFixed(1)}, ${Object.entries(r.env ?? {}).map(([k, v]) => `${k}=${v}, `).join('')}${(r.seconds / 60).toFixed(0)} min) → \`results/${r.name}.json\``;
}

/**
 * A sweep's scenarios as tables: rows are split points, cells ROUGE-L / exact windows per attack. An
 * audit's `summary` has the same shape, with each split's budgets beside its attacks instead of in them.
 */
function sweepTables(res) {
  const scenarios = scenariosOf(res);
  const out = [];
  for (const sc of scenarios) {
    const names = [...new Set(sc.splits.flatMap((s) => [...Object.keys(s.attacks), ...Object.keys(s.not_applicable ?? {})]))];
    out.push(`*${sc.scenario.name}*: ${sc.scenario.description}; ${sc.victim.segments} of ${sc.victim.of} windows (${sc.victim.method}, seed ${sc.victim.seed})${sc.victim.chance_rougeL == null ? '' : `; chance ROUGE-L ${f3(sc.victim.chance_rougeL)} (each window scored against another of them)`}${sc.victim.near_copy_share ? `; ${(100 * sc.victim.near_copy_share).toFixed(1)} % of its tokens have a near-copy in the model (input-embedding cosine ≥ 0.99)` : ''}. ROUGE-L / exact windows:`, '');
    out.push(`| k | drift | ${names.join(' | ')} |`, `| --- | --- | ${names.map(() => '---').join(' | ')} |`);
    for (const s of sc.splits) {
      const cells = names.map((n) => {
        const a = s.attacks[n];
        if (!a) return 'n/a';
        const left = a.adaptation?.drift_left;
        return `${f3(a.rougeL)} / ${f2(a.exact_windows)}${left !== undefined && left !== null ? ` (drift left ${f2(left)})` : ''}`;
      });
      out.push(`| ${s.split} | ${f2(s.drift)} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  const budgets = scenarios[0].splits.flatMap((s) => Object.entries(s.attacks).map(([n, a]) => {
    const b = a.budget ?? s.budgets[n];
    return `${n} k=${s.split}: ${b.examples} windows × ${b.steps} steps, ${(b.parameters / 1e6).toFixed(2)} M params, ${b.seconds.toFixed(0)} s train, ${(a.invertSeconds ?? b.invert_seconds).toFixed(0)} s invert`;
  }));
  out.push(`Budgets: ${budgets.join('; ')}.`);
  return out.join('\n');
}

function tradeoffTable(r) {
  const t = r.result;
  const names = Object.keys(t.levels[0]?.attacks ?? {});
  const cell = (a) => (a ? `${f3(a.naive.rougeL)} / ${f3(a.adaptive.rougeL)}${a.adaptive.exact_windows === undefined ? '' : ` (${f2(a.adaptive.exact_windows)})`}` : 'n/a');
  const out = [`${t.defense} at split ${t.split}, *${t.scenario.name}*: ${t.scenario.description}. ROUGE-L naive / adaptive (exact windows, adaptive); drift = relative L2 between the victim's wire H_k and the pretrained part's${t.chance_rougeL == null ? '' : `; chance ROUGE-L ${f3(t.chance_rougeL)} (each window scored against another of them)`}:`, ''];
  out.push(`| level | perplexity | ε | drift | ${names.join(' | ')} |`, `| --- | --- | --- | --- | ${names.map(() => '---').join(' | ')} |`);
  for (const l of t.levels) out.push(`| ${l.level} | ${f2(l.perplexity)} | ${l.epsilon === null ? '–' : f2(l.epsilon)} | ${l.drift === undefined ? '–' : f2(l.drift)} | ${names.map((n) => cell(l.attacks[n])).join(' | ')} |`);
  return out.join('\n');
}

function leakageTable(r) {
  const rows = r.result.layers;
  const out = ['| block | KSG I(E;H) | InfoNCE | probe I(X;H) | entropy | effective rank | near-zero |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const l of rows) out.push(`| ${l.layer} | ${f2(l.ksg)} | ${f2(l.infonce)} | ${f2(l.probe)} | ${f2(l.entropy)} | ${f2(l.effective_rank)} | ${f3(l.sparsity)} |`);
  return out.join('\n');
}

/** The demo (or an audit): wall time, where it went, the verdict's rows, then every attack's. */
function auditSummary(r) {
  const res = r.result;
  const t = res.timings ? Object.entries(res.timings).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ') : 'not recorded';
  // A resumed audit's wall time is its last leg only; the kept results' seconds are the earlier legs'.
  const leg = res.resumed ? ` in the last leg, which resumed ${res.resumed} attack results an interrupted run had finished` : ' end to end';
  const out = [`${r.seconds.toFixed(0)} s${leg} (${t}). Verdict: **${res.verdict.rating}**.`, ''];
  out.push('| scenario | k | strongest attack | ROUGE-L | exact windows | PII spans |', '| --- | --- | --- | --- | --- | --- |');
  for (const v of res.verdict.rows) out.push(`| ${v.scenario} | ${v.split} | ${v.attack} | ${f3(v.rougeL)} | ${f2(v.exact_windows)} | ${v.pii_spans.recovered} / ${v.pii_spans.total} |`);
  if (res.summary?.scenarios) out.push('', 'Every attack:', '', sweepTables(res.summary));
  return out.join('\n');
}

/** A benchmark: its scalar figures (ratios are ours / the peer's, in the same run) and its targets. */
function benchSummary(r) {
  const isScalar = (v) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
  // A group of scalars (e.g. bench attack's drift_cost) prints as group.name value.
  const isGroup = (k, v) => k !== 'targets' && v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => x === null || isScalar(x));
  const scalars = Object.entries(r.result).flatMap(([k, v]) => (isScalar(v) ? [[k, v]] : isGroup(k, v) ? Object.entries(v).map(([s, x]) => [`${k}.${s}`, x ?? '–']) : []));
  const targets = r.result.targets ? ` Targets: ${Object.entries(r.result.targets).map(([k, v]) => `${k} ${v}`).join(', ')}.` : '';
  return `${scalars.map(([k, v]) => `${k} ${typeof v === 'number' ? +v.toPrecision(4) : v}`).join(' · ')}.${targets}`;
}

/** The near-copy measure per model and text set: the share of its tokens, and the ones it uses most. */
function nearCopiesTable(r) {
  const out = [`First ${r.result.max_tokens} tokens of each set at most (every text with its EOS); share of them, separators aside, whose input embedding has a near-copy the tokenizer can emit (cosine ≥ 0.99):`, '',
    '| model | text set | tokens | near-copy share | most used near-copies |', '| --- | --- | --- | --- | --- |'];
  for (const s of r.result.sets) out.push(`| ${s.model} | ${s.set} | ${s.tokens} | ${(100 * s.near_copy_share).toFixed(2)} % | ${s.top.filter((t) => !t.token.includes('\uFFFD')).slice(0, 6).map((t) => `\`${JSON.stringify(t.token).slice(1, -1).replace(/\|/g, '\\|')}\` ${t.count}`).join(', ') || '–'} |`);
  return out.join('\n');
}

/** An ablation: one row per variant. */
function ablationTable(r) {
  const res = r.result;
  const out = [`${res.model}, k = ${res.split}, drift ${f2(res.drift)}, ${res.windows} windows, ${res.budget.examples} × ${res.budget.steps}:`, '',
    '| variant | ROUGE-L | exact windows | token accuracy | drift left | parameters |', '| --- | --- | --- | --- | --- | --- |'];
  for (const v of res.variants) out.push(`| ${v.variant} | ${f3(v.rougeL)} | ${f2(v.exact_windows)} | ${f3(v.token_acc)} | ${f2(v.drift_left)} | ${(v.parameters / 1e6).toFixed(2)} M |`);
  return out.join('\n');
}

/** The research driver's runs (scripts/research/personalized_attack.ts): per split and attack, scores and the repair's candidates by round. */
function searchCostTable(r) {
  const res = r.result;
  const sc = res.scenario;
  const out = [`device ${sc.personalize.mode}${sc.personalize.mode === 'none' ? '' : ` (r${sc.personalize.rank} ${sc.personalize.targets.join(',')}, ${sc.personalize.steps} steps)`}, knowledge ${sc.knowledge}, ${sc.wireDtype} wire; attack settings: ${res.args.config === "{}" ? "the defaults" : res.args.config}.`, '',
    '| k | attack | ROUGE-L | exact windows | drift left | seconds | candidates | top-K (positions / candidates / won) | escalated | wide | neighbours |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  const round = (x) => (x ? `${x.positions} / ${x.candidates} / ${x.won}` : '–');
  for (const sp of res.splits) {
    for (const [name, a] of Object.entries(sp.attacks)) {
      const c = a.candidates;
      out.push(`| ${sp.split} | ${name} | ${f3(a.rougeL)} | ${f2(a.exact_windows)} | ${a.drift_left === undefined ? '–' : f3(a.drift_left)} | ${a.seconds.toFixed(0)} | ${c ? c.candidates : '–'} | ${round(c?.rounds.top_k)} | ${round(c?.rounds.escalated)} | ${round(c?.rounds.wide)} | ${round(c?.rounds.neighbours)} |`);
    }
  }
  return out.join('\n');
}

/** One `revertlm attack` run: its scenario, scores, and every window it did not recover token for token. */
function attackSummary(r) {
  const res = r.result;
  const s = res.scores;
  const v = res.victim;
  const ad = s.adaptation;
  const out = [
    `*${res.scenario.name}*: ${res.scenario.description}; ${res.attack} at k = ${res.split}, drift ${f2(res.drift)}${ad?.drift_left !== undefined ? ` (drift left ${f3(ad.drift_left)}, ${ad.rounds} rounds)` : ''}; ${v.segments} of ${v.of} windows (${v.method}, seed ${v.seed}).`,
    '',
    `ROUGE-L ${f3(s.rougeL)}, BLEU ${f3(s.bleu)}, token accuracy ${f3(s.token_acc)}, exact windows ${f2(s.exact_windows)} (${Math.round(s.exact_windows * v.segments)} of ${v.segments}).`,
  ];
  const wrong = res.examples.filter((e) => e.original !== e.reconstruction);
  out.push('', wrong.length ? 'Windows not recovered exactly (original, then reconstruction):' : 'Every window printed was recovered exactly.');
  for (const e of wrong) out.push('', '```', JSON.stringify(e.original), JSON.stringify(e.reconstruction), '```');
  return out.join('\n');
}

function render(r) {
  const body = r.result.verdict ? auditSummary(r) : r.result.attack && r.result.examples ? attackSummary(r) : r.result.args && r.result.splits ? searchCostTable(r) : r.result.scenarios || r.result.splits ? sweepTables(r.result)
    : r.result.levels && r.result.defense ? tradeoffTable(r)
      : Array.isArray(r.result.layers) ? leakageTable(r)
        : r.name.startsWith('bench-') ? benchSummary(r)
        : Array.isArray(r.result.variants) ? ablationTable(r)
        : Array.isArray(r.result.sets) ? nearCopiesTable(r)
        : '```json\n' + JSON.stringify(r.result, null, 1).slice(0, 4000) + '\n```';
  return `### ${r.name}\n${provenance(r)}\n\n${body}\n`;
}

const names = process.argv.slice(2);
const files = existsSync(resultsDir) ? readdirSync(resultsDir).filter((f) => f.endsWith('.json')).sort() : [];
for (const f of files) {
  const r = readResult(f.slice(0, -'.json'.length));
  if (names.length && !names.includes(r.name)) continue;
  process.stdout.write(`${render(r)}\n`);
}

#!/usr/bin/env node
// Prints the scenario issue's targets (#13) against the recorded results (results/*.json): one row per
// target and model, every split's figure, met or missed, and the files (with their commits) it read.
// Computed from the records so the README's summary is never typed by hand; a target whose results
// file is absent prints as "not run". Usage: node scripts/targets.mjs [--json]
import { f2, f3, readResult as read, scenariosOf } from './results_lib.mjs';

/** Every (scenario name, split, attacks) row of the named sweep files, with the file each came from. */
function sweepRows(names) {
  const rows = [];
  for (const name of names) {
    const r = read(name);
    if (!r) continue;
    const res = r.result;
    for (const sc of scenariosOf(res)) {
      for (const sp of sc.splits) rows.push({ file: name, commit: r.commit.slice(0, 7), scenario: sc.scenario.name, split: sp.split, attacks: sp.attacks, budgets: sp.budgets });
    }
  }
  return rows.sort((a, b) => a.split - b.split);
}

/** A row's attacks trained at the default budget (8000 × 1500): the issue's targets are set there. */
const atDefaultBudget = (row) => Object.entries(row.attacks).every(([n, a]) => {
  const b = a.budget ?? row.budgets?.[n];
  return !b || b.examples === 0 || (b.examples >= 8000 && b.steps >= 1500);
});

const sources = (rows) => [...new Set(rows.map((r) => `${r.file} (${r.commit})`))].join(', ');
const targets = [];

const MODELS = [
  { model: 'stories260K', files: ['sweep-stories260k-k123', 'sweep-stories260k-k4'], harder: ['sweep-stories260k-harder-k123', 'sweep-stories260k-harder-k4'], architecture: ['sweep-stories260k-architecture-k123', 'sweep-stories260k-architecture-k4'] },
  { model: 'mail-llama', files: ['sweep-mail-llama-k1', 'sweep-mail-llama-k2', 'sweep-mail-llama-k3'], harder: ['sweep-mail-llama-harder-k1', 'sweep-mail-llama-harder-k2', 'sweep-mail-llama-harder-k3'], architecture: [] },
  { model: 'mail-llama-deep (beyond the issue)', files: ['sweep-mail-llama-deep-k1', 'sweep-mail-llama-deep-k3', 'sweep-mail-llama-deep-k6', 'sweep-mail-llama-deep-k9', 'sweep-mail-llama-deep-k11'], harder: [], architecture: [] },
];

for (const m of MODELS) {
  const rows = sweepRows(m.files).filter((r) => r.scenario === 'personalized' && atDefaultBudget(r));
  if (!rows.length) {
    targets.push({ target: 'RevertLM ≥ 0.98 ROUGE-L, ≥ 0.90 exact windows, best attack (ties within 0.01); personalized', model: m.model, measured: 'not run', met: null, from: '' });
  } else {
    const cells = rows.map((r) => {
      const rv = r.attacks.revertlm;
      const best = Math.max(...Object.entries(r.attacks).filter(([n]) => n !== 'revertlm').map(([, a]) => a.rougeL));
      return { text: `k=${r.split}: ${f3(rv.rougeL)} / ${f2(rv.exact_windows)}${best > rv.rougeL ? ` (best other ${f3(best)})` : ''}`, met: rv.rougeL >= 0.98 && rv.exact_windows >= 0.9 && rv.rougeL >= best - 0.01 };
    });
    targets.push({ target: 'RevertLM ≥ 0.98 ROUGE-L, ≥ 0.90 exact windows, best attack (ties within 0.01); personalized', model: m.model, measured: cells.map((c) => c.text).join('; '), met: cells.every((c) => c.met), from: sources(rows) });
  }
  if (m.harder.length) {
    const rows = sweepRows(m.harder).filter(atDefaultBudget);
    const cells = rows.map((r) => ({ text: `${r.scenario} k=${r.split}: ${f3(r.attacks.revertlm.rougeL)} / ${f2(r.attacks.revertlm.exact_windows)}`, met: r.attacks.revertlm.rougeL >= 0.95 }));
    targets.push({ target: 'aim: RevertLM ≥ 0.95 ROUGE-L with LoRA on every projection and with full fine-tuning', model: m.model, measured: cells.length ? cells.map((c) => c.text).join('; ') : 'not run', met: cells.length ? cells.every((c) => c.met) : null, from: sources(rows) });
  }
  if (m.architecture.length) {
    const rows = sweepRows(m.architecture).filter(atDefaultBudget);
    const cells = rows.map((r) => `k=${r.split}: ${f3(r.attacks['revertlm-learned'].rougeL)} against SIP ${f3(r.attacks.sip.rougeL)}`);
    targets.push({ target: 'reported: architecture knowledge, RevertLM\'s learned stages against SIP', model: m.model, measured: cells.length ? cells.join('; ') : 'not run', met: cells.length ? 'reported' : null, from: sources(rows) });
  }
}

const tradeoff = read('tradeoff-stories260k');
if (tradeoff) {
  const t = tradeoff.result;
  const levels = t.levels.filter((l) => l.attacks.sip && l.attacks.revertlm && l.attacks.sip.adaptive.rougeL < 0.5);
  const cells = levels.map((l) => ({ text: `level ${l.level}: ${f3(l.attacks.revertlm.adaptive.rougeL)} against ${f3(l.attacks.sip.adaptive.rougeL)} (${f2(l.attacks.revertlm.adaptive.rougeL / l.attacks.sip.adaptive.rougeL)}×)`, met: l.attacks.revertlm.adaptive.rougeL >= 1.6 * l.attacks.sip.adaptive.rougeL }));
  targets.push({ target: `Gaussian noise, ${t.scenario.name}, k=${t.split}: adaptive RevertLM ≥ 1.6× adaptive SIP wherever SIP < 0.5`, model: 'stories260K', measured: cells.map((c) => c.text).join('; '), met: cells.every((c) => c.met), from: `tradeoff-stories260k (${tradeoff.commit.slice(0, 7)})` });
}

const bench = read('bench-attack');
if (bench) {
  const b = bench.result;
  const from = `bench-attack (${bench.commit.slice(0, 7)})`;
  targets.push({ target: 'candidate search against the PyTorch peer in the same run: ratio ≤ 1', model: 'stories260K k=4', measured: `${b.ratio} (clean ${b.clean.search_ms} against ${b.clean.pytorch_search_ms} ms, drifted ${b.drifted.search_ms} against ${b.drifted.pytorch_search_ms} ms)`, met: b.ratio <= 1, from });
  targets.push({ target: `drifted inversion end to end ≤ 2× the clean one (${b.clean.windows} windows)`, model: 'stories260K k=4', measured: `${b.drift_cost_ratio}× (${b.drifted.invert_seconds} against ${b.clean.invert_seconds} s; estimation's fixed work ${b.drift_cost.fixed_seconds} s, the rest ${b.drift_cost.marginal_ratio}× clean; search alone ${b.search_drift_cost_ratio}×)`, met: b.drift_cost_ratio <= 2, from });
}

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ targets })}\n`);
} else {
  const status = (met) => (met === null ? 'not run' : met === 'reported' ? 'reported' : met ? 'met' : '**missed**');
  const out = ['| target | model | measured (ROUGE-L / exact windows) | status | from |', '| --- | --- | --- | --- | --- |'];
  for (const t of targets) out.push(`| ${t.target} | ${t.model} | ${t.measured} | ${status(t.met)} | ${t.from} |`);
  process.stdout.write(`${out.join('\n')}\n`);
}

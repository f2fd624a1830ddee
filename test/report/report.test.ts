import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport } from '../../src/report/index.js';
import { summarize } from '../../src/report/index.js';
import { assertPageMatchesResults, chromiumMissing, inspectReport } from './check_in_browser.js';
import { sampleResults } from './sample_results.js';

test('report.html escapes text, tags every number, and results.json round-trips', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-report-'));
  const r = sampleResults();
  const out = await writeReport(dir, r);
  const html = readFileSync(out.html, 'utf8');
  assert.deepEqual(JSON.parse(readFileSync(out.json, 'utf8')), r);
  assert.deepEqual(JSON.parse(readFileSync(out.config, 'utf8')), r.config);
  assert.ok(html.includes('&lt;b&gt;') && !html.includes('<b>'), 'victim text is escaped');
  assert.ok(!/<script/i.test(html), 'no scripts: the page is static');
  assert.ok(!/https?:\/\/(?!www\.w3\.org)/.test(html.replace(/xmlns(:\w+)?="[^"]*"/g, '')), 'no external resources');
  assert.match(html, /<mark class="pii hit"[^>]*>john\.smith@example\.com<\/mark>/);
  assert.match(html, /<mark class="pii miss"[^>]*>555-123-4567<\/mark>/);
  assert.equal((html.match(/<figure class="chart"/g) ?? []).length, 11, 'depth and three per scenario (less one PII chart), Pareto and one per trade-off, leakage, sparsity');
  assert.match(html, /id="chart-pii-1-note"[^>]*>.*none of the 8 scored windows holds a PII span/, 'an empty PII chart says why instead');
  // The attack's estimate of the personalized device: how much drift it left, beside its budget.
  const left = r.attacks!.scenarios[1]!.splits[0]!.attacks.revertlm!.adaptation!.drift_left!;
  assert.match(html, new RegExp(`data-key="attacks\\.scenarios\\.1\\.splits\\.0\\.attacks\\.revertlm\\.adaptation\\.drift_left"[^>]*>${left.toFixed(3)}<`));
  assert.ok(html.includes('data-key="attacks.scenarios.0.splits.0.attacks.revertlm.adaptation.drift_left" data-value="null">–<'), 'the exact scenario made no estimate: a dash');
  // The chance floor beside every scenario and trade-off, tagged like every other number.
  assert.match(html, /each window scored against another of them gets ROUGE-L <span data-key="attacks\.scenarios\.1\.victim\.chance_rougeL" data-value="0\.11">0\.110<\/span>/);
  assert.match(html, /<span data-key="attacks\.scenarios\.1\.victim\.near_copy_share" data-value="0\.02" data-format="percent">2\.0%<\/span> of the scored tokens have a near-copy/);
  assert.ok(!html.includes('attacks.scenarios.0.victim.near_copy_share'), 'no near-copy sentence where no scored token has one');
  assert.match(html, /Chance \(each scored window against another of them\): ROUGE-L <span data-key="tradeoffs\.0\.chance_rougeL" data-value="0\.095">0\.095<\/span>/);
  assert.match(html, /<code id="reproduce">revertlm audit --config [^<]*config\.json<\/code>/);
  // What was tried: two lines per attack and per scenario.
  assert.match(html, /<dt>revertlm<\/dt><dd>RevertLM: [^<]+<br><span class="needs">Needs [^<]+<\/span><\/dd>/);
  assert.match(html, /<dt>personalized<\/dt><dd>personalized scenario<br><span class="needs">The server [^<]+<\/span>/);
});

test('report renders in headless Chromium: no console errors, every chart and table, numbers equal results.json', async (t) => {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-report-'));
  const out = await writeReport(dir, sampleResults());
  const facts = await inspectReport(out.html);
  const results = JSON.parse(readFileSync(out.json, 'utf8'));
  assert.deepEqual(facts.consoleErrors, []);
  assert.deepEqual(facts.charts.map((c) => c.id), [
    'chart-depth-0', 'chart-depth-1', 'chart-rouge-0', 'chart-exact-0', 'chart-pii-0', 'chart-rouge-1', 'chart-exact-1',
    'chart-pareto', 'chart-tradeoff-0', 'chart-leakage', 'chart-sparsity',
  ]);
  for (const c of facts.charts) {
    assert.equal(c.svgs >= 1, true, `${c.id} has no svg`);
    assert.ok(c.dataMarks >= 3, `${c.id} draws no data`);
  }
  for (const id of ['verdict', 'recommendation', 'reproduce', 'attack-list', 'scenario-list', 'chart-pii-1-note']) assert.ok(facts.ids.includes(id), `#${id} missing`);
  for (const id of ['setup-table', 'leakage-table', 'attack-table-0', 'attack-table-1', 'budget-table-0', 'tradeoff-table', 'configs-table', 'examples-table-0', 'timings-table']) {
    assert.ok(facts.tables.some((x) => x.includes(id)), `table ${id} missing`);
  }
  assert.ok(facts.cells.length > 50);
  assert.ok(facts.cells.some((c) => c.key.startsWith('summary.verdict.rows.') && c.format === 'percent'), 'the verdict shows its shares');
  assertPageMatchesResults(facts, results);
});

test('verdict: one rated row per scenario and split with the strongest attack; recommendation: cheapest protecting configuration, or next steps', () => {
  const r = sampleResults();
  const s = r.summary!;
  assert.equal(s.verdict.rows.length, 6);
  for (const row of s.verdict.rows) {
    const sc = r.attacks!.scenarios.find((x) => x.scenario.name === row.scenario)!;
    const split = sc.splits.find((x) => x.split === row.split)!;
    assert.equal(row.rougeL, Math.max(...Object.values(split.attacks).map((a) => a.rougeL)), 'the strongest attack');
    assert.equal(row.rating, row.rougeL >= 0.8 || (row.pii ?? 0) >= 0.5 ? 'red' : row.rougeL < 0.5 && (row.pii ?? 0) <= 0.1 ? 'green' : 'amber');
  }
  assert.equal(s.verdict.rating, s.verdict.rows.some((x) => x.rating === 'red') ? 'red' : s.verdict.rows.some((x) => x.rating === 'amber') ? 'amber' : 'green');
  assert.equal(s.verdict.examples.length, 2);
  assert.equal(r.examples[s.verdict.examples[0]!]!.scenario, 'personalized', 'examples prefer the last (realistic) scenario');

  // Four levels, level 0 the utility baseline; ratios against it.
  assert.equal(s.recommendation.configs.length, 4);
  assert.equal(s.recommendation.configs[0]!.perplexity_ratio, 1);
  assert.equal(s.recommendation.configs[3]!.perplexity_ratio, 2);
  // Everything protects under a lax threshold, cheapest first; nothing under a strict one, with next steps.
  const lax = summarize(r, { rougeL: 1.01, pii: 1, red: { rougeL: 1, pii: 1 } });
  assert.deepEqual(lax.recommendation.protecting, [0, 1, 2, 3]);
  assert.deepEqual(lax.recommendation.next, []);
  assert.equal(lax.verdict.rating, 'green');
  const strict = summarize(r, { rougeL: 0, pii: 0, red: { rougeL: 0.9, pii: 0.9 } });
  assert.deepEqual(strict.recommendation.protecting, []);
  assert.match(strict.recommendation.next[0]!, /^gaussian at split 2: the strongest level tried \(2, .*try higher levels: --defenses gaussian:0,4,8,16@2\.$/);
  assert.ok(strict.recommendation.next.some((x) => /Other defenses not tried here: dchi/.test(x)));
  const none = summarize({ ...r, tradeoffs: [] });
  assert.match(none.recommendation.next[0]!, /^No defense was tried/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport } from '../../src/report/index.js';
import { chromiumMissing, inspectReport, at } from './check_in_browser.js';
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
  assert.equal((html.match(/<figure class="chart"/g) ?? []).length, 9, 'leakage, sparsity, three per scenario, one per trade-off');
});

test('report renders in headless Chromium: no console errors, every chart and table, numbers equal results.json', async (t) => {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-report-'));
  const out = await writeReport(dir, sampleResults());
  const facts = await inspectReport(out.html);
  const results = JSON.parse(readFileSync(out.json, 'utf8'));
  assert.deepEqual(facts.consoleErrors, []);
  assert.deepEqual(facts.charts.map((c) => c.id), ['chart-leakage', 'chart-sparsity', 'chart-rouge-0', 'chart-exact-0', 'chart-pii-0', 'chart-rouge-1', 'chart-exact-1', 'chart-pii-1', 'chart-tradeoff-0']);
  for (const c of facts.charts) {
    assert.equal(c.svgs >= 1, true, `${c.id} has no svg`);
    assert.ok(c.marks > 5, `${c.id} draws nothing`);
  }
  for (const id of ['setup-table', 'leakage-table', 'attack-table-0', 'attack-table-1', 'budget-table-0', 'tradeoff-table', 'examples-table', 'timings-table']) {
    assert.ok(facts.tables.some((x) => x.includes(id)), `table ${id} missing`);
  }
  assert.ok(facts.cells.length > 50);
  for (const cell of facts.cells) {
    const v = at(results, cell.key);
    if (cell.value === 'null') {
      assert.ok(v === null || v === undefined, `${cell.key}: page shows – but results.json has ${v}`);
      continue;
    }
    assert.equal(Number(cell.value), v, `${cell.key}`);
    const digits = (cell.text.split('.')[1] ?? '').length;
    assert.equal(cell.text, (v as number).toFixed(digits), `${cell.key} shown as ${cell.text}`);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport, type AuditResults } from '../../src/report/index.js';
import { chromiumMissing, inspectReport, at } from './check_in_browser.js';

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

function sampleResults(): AuditResults {
  const r = rng(7);
  const splits = [1, 2, 3];
  return {
    version: 1,
    created: '2026-11-29T00:00:00Z',
    config: { model: 'tiny', splits, seed: 1 },
    setup: { model: 'tiny', family: 'llama', layers: 4, dModel: 32, vocab: 100, parameters: 12345, splits, auxSamples: 10, victimSamples: 5, auxSource: 'aux.txt', victimSource: 'victim.txt' },
    leakage: {
      tokens: 500,
      layers: [0, 1, 2, 3, 4].map((layer) => ({ layer, ksg: r() * 3, infonce: r() * 2, probe: layer === 4 ? null : r() * 4, entropy: r() * 10, effective_rank: r() * 32, sparsity: r() })),
    },
    attacks: {
      splits: splits.map((split) => ({
        split,
        attacks: { revertlm: { rougeL: r(), bleu: r(), token_acc: r(), pii: r() }, sip: { rougeL: r(), bleu: r(), token_acc: r(), pii: null } },
        budgets: { revertlm: { examples: 100, steps: 200, parameters: 5000, seconds: r() * 60 } },
      })),
    },
    examples: [{ split: 1, attack: 'revertlm', original: 'Mail john.smith@example.com or call 555-123-4567, <b>David</b>', reconstruction: 'mail john.smith@example.com or call 555-000-0000' }],
    tradeoffs: [{ defense: 'gaussian', split: 2, levels: [0, 0.5, 1].map((level) => ({ level, perplexity: 10 + level * 5, epsilon: level === 0 ? null : 3 / level, attacks: { sip: { naive: { rougeL: r(), pii: r() }, adaptive: { rougeL: r(), pii: null } } } })) }],
    timings: { leakage: 12.5, attacks: 100.25 },
  };
}

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
  assert.equal((html.match(/<figure class="chart"/g) ?? []).length, 5);
});

test('report renders in headless Chromium: no console errors, every chart and table, numbers equal results.json', async (t) => {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-report-'));
  const out = await writeReport(dir, sampleResults());
  const facts = await inspectReport(out.html);
  const results = JSON.parse(readFileSync(out.json, 'utf8'));
  assert.deepEqual(facts.consoleErrors, []);
  assert.deepEqual(facts.charts.map((c) => c.id), ['chart-leakage', 'chart-sparsity', 'chart-rouge', 'chart-pii', 'chart-tradeoff-0']);
  for (const c of facts.charts) {
    assert.equal(c.svgs >= 1, true, `${c.id} has no svg`);
    assert.ok(c.marks > 5, `${c.id} draws nothing`);
  }
  for (const id of ['setup-table', 'leakage-table', 'attack-table', 'budget-table', 'tradeoff-table', 'examples-table', 'timings-table']) {
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAuditConfig } from '../../src/audit/config.js';
import { resolveScenario } from '../../src/experiments/scenario.js';
import { parseDefenseArg } from '../../src/cli/commands/experiment_flags.js';
import { parseIntList } from '../../src/cli/flags.js';
import { runAudit } from '../../src/audit/run.js';
import { existsSync } from 'node:fs';
import { DEFAULT_THRESHOLDS, previewReport, writeReport, type AuditResults } from '../../src/report/index.js';
import { RevertlmError, UsageError } from '../../src/util/errors.js';
import { assertPageMatchesResults, chromiumMissing, inspectReport } from '../report/check_in_browser.js';
import { tinyAuditSetup } from '../helpers/tiny_setup.js';

const setup = tinyAuditSetup();
const small = {
  model: setup.model,
  aux: { source: setup.aux },
  victim: { source: setup.victim },
  splits: [1],
  attacks: ['nn', 'sip'],
  // Level 0 (the utility baseline) is added; the curve runs the two strongest attacks of the sweep.
  defenses: [{ name: 'gaussian', levels: [1, 2, 4], split: 1 }],
  leakage: { enabled: true, tokens: 256 },
  budget: { steps: 20, examples: 60, batchSize: 8, maxTokens: 16 },
  victimSegments: 12,
  scenarios: ['exact', { ...resolveScenario({ personalize: { mode: 'lora', steps: 6 } }) }],
  examples: 2,
  seed: 1,
};

/** Everything but wall-clock figures (dates, timings, seconds spent per attack). */
const strip = (r: AuditResults) =>
  JSON.parse(JSON.stringify({ ...r, created: '', timings: {} }, (k, v) => (/seconds$/.test(k) ? 0 : v)));

test('config errors name the problem; list and defense syntax', () => {
  assert.throws(() => parseAuditConfig({ ...small, attacks: ['nope'] }), (e: Error) => e instanceof UsageError && /attacks/.test(e.message));
  assert.throws(() => parseAuditConfig({ ...small, model: '' }), /model/);
  assert.deepEqual(parseIntList('1..3', 'splits'), [1, 2, 3]);
  assert.deepEqual(parseIntList('2,4', 'splits'), [2, 4]);
  assert.throws(() => parseIntList('a,b', 'splits'), UsageError);
  assert.deepEqual(parseDefenseArg('gaussian:0,0.5@2'), { name: 'gaussian', levels: [0, 0.5], split: 2 });
  assert.throws(() => parseDefenseArg('gaussian'), /cannot read defense/);
});

test('config defaults: a 4-level Gaussian curve, level 0 always tried, default levels by name, thresholds', () => {
  const { defenses: _, ...rest } = small;
  const cfg = parseAuditConfig(rest);
  assert.deepEqual(cfg.defenses, [{ name: 'gaussian', levels: [0, 1, 2, 4] }]);
  assert.deepEqual(cfg.thresholds, DEFAULT_THRESHOLDS);
  assert.deepEqual(parseAuditConfig({ ...rest, defenses: [] }).defenses, []);
  assert.deepEqual(parseAuditConfig({ ...rest, defenses: [{ name: 'quantize', split: 1 }] }).defenses, [{ name: 'quantize', levels: [0, 8, 4, 2], split: 1 }]);
  assert.deepEqual(parseAuditConfig({ ...rest, defenses: [{ name: 'gaussian', levels: [3] }] }).defenses[0]!.levels, [0, 3]);
  assert.throws(() => parseAuditConfig({ ...rest, defenses: [{ name: 'dchi' }] }), (e: Error) => e instanceof UsageError && /dchi has no default levels/.test(e.message));
  const t = parseAuditConfig({ ...rest, thresholds: { rougeL: 0.3 } }).thresholds;
  assert.deepEqual(t, { ...DEFAULT_THRESHOLDS, rougeL: 0.3 });
  assert.throws(() => parseAuditConfig({ ...rest, thresholds: { pii: 2 } }), /thresholds\.pii/);
});

test('missing or empty victim data is a clear error, not a crash', async () => {
  const missing = parseAuditConfig({ ...small, victim: { source: join(setup.dir, 'nope.txt') } });
  await assert.rejects(runAudit(missing), (e: Error) => e instanceof RevertlmError && /victim/.test(e.message));
  writeFileSync(join(setup.dir, 'empty.txt'), '\n\n');
  const empty = parseAuditConfig({ ...small, victim: { source: join(setup.dir, 'empty.txt') } });
  await assert.rejects(runAudit(empty), (e: Error) => e instanceof RevertlmError && /victim/.test(e.message));
});

test('a small audit run produces every part, and its report renders in Chromium with the same numbers', async (t) => {
  const cfg = parseAuditConfig(small);
  const seen: string[] = [];
  const r = await runAudit(cfg, (p) => seen.push(p.part));
  assert.equal(r.leakage!.layers.length, 3);
  assert.deepEqual(r.attacks!.scenarios.map((s) => s.scenario.name), ['exact', 'lora-6/pretrained/float32']);
  for (const sc of r.attacks!.scenarios) assert.deepEqual(Object.keys(sc.splits[0]!.attacks).sort(), ['nn', 'sip']);
  assert.equal(r.attacks!.scenarios[0]!.splits[0]!.drift, 0, 'the exact scenario: the victim runs the pretrained part');
  assert.ok(r.attacks!.scenarios[1]!.splits[0]!.drift > 0, 'the personalized device moved');
  assert.deepEqual(r.tradeoffs[0]!.levels.map((l) => l.level), [0, 1, 2, 4]);
  assert.deepEqual(Object.keys(r.tradeoffs[0]!.levels[0]!.attacks).sort(), ['nn', 'sip']);
  for (const part of ['leakage', 'attacks', 'tradeoff']) assert.ok(seen.includes(part), `no progress for ${part}`);
  for (const part of ['load', 'leakage', 'attacks', 'tradeoff gaussian']) assert.ok(r.timings[part]! >= 0, `no timing for ${part}`);

  // Every score counts its PII spans; examples: the same windows for every attack, chosen for information.
  for (const sc of r.attacks!.scenarios) for (const a of Object.values(sc.splits[0]!.attacks)) {
    assert.ok(a.pii_spans && a.pii_spans.recovered <= a.pii_spans.total);
    assert.equal(a.pii, a.pii_spans.total ? a.pii_spans.recovered / a.pii_spans.total : null);
  }
  assert.equal(r.examples.length, 2 * 2 * 2, 'two windows per scenario and split, for each of two attacks');
  const windows = (sc: string, attack: string) => r.examples.filter((e) => e.scenario === sc && e.attack === attack).map((e) => e.window);
  assert.deepEqual(windows('exact', 'nn'), windows('exact', 'sip'));
  assert.ok(r.examples.every((e) => e.chosen === 'pii' || e.chosen === 'longest'));

  // The summary: one verdict row per scenario and split, every tried configuration rated.
  const s = r.summary!;
  assert.equal(s.verdict.rows.length, 2);
  assert.equal(s.recommendation.configs.length, 4);
  assert.equal(s.recommendation.configs[0]!.perplexity_ratio, 1);
  assert.ok(s.recommendation.protecting.length > 0 || s.recommendation.next.length > 0, 'either a recommendation or what to try next');

  const out = join(setup.dir, 'report');
  const files = await writeReport(out, r);
  // Replaying the written config gives the same numbers (timings and dates aside).
  const replay = await runAudit(parseAuditConfig(JSON.parse(readFileSync(files.config, 'utf8'))));
  assert.deepEqual(strip(replay), strip(r));

  // Without Chromium the preview is a warning and the report stays.
  const absent = await previewReport(files.html, { chromium: join(setup.dir, 'no-chromium') });
  assert.equal(absent.png, null);
  assert.match(absent.warnings[0]!, /report\.png not written: Chromium not found .*report\.html is complete/);
  assert.ok(existsSync(files.html));

  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const preview = await previewReport(files.html);
  assert.deepEqual(preview.warnings, []);
  assert.equal(preview.png, join(out, 'report.png'));
  assert.ok(existsSync(preview.png!));
  const facts = await inspectReport(files.html);
  assert.deepEqual(facts.consoleErrors, []);
  for (const id of ['verdict', 'recommendation', 'reproduce']) assert.ok(facts.ids.includes(id), `#${id} missing`);
  assert.ok(facts.charts.length >= 6 && facts.charts.every((c) => c.svgs === 1 && c.dataMarks > 0), JSON.stringify(facts.charts));
  const results = JSON.parse(readFileSync(files.json, 'utf8'));
  assert.ok(facts.cells.length > 20);
  assertPageMatchesResults(facts, results);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAuditConfig } from '../../src/audit/config.js';
import { resolveScenario } from '../../src/experiments/scenario.js';
import { parseDefenseArg, parseIntList } from '../../src/cli/commands/experiment_flags.js';
import { runAudit } from '../../src/audit/run.js';
import { writeReport, type AuditResults } from '../../src/report/index.js';
import { RevertlmError, UsageError } from '../../src/util/errors.js';
import { chromiumMissing, inspectReport, at } from '../report/check_in_browser.js';
import { tinyAuditSetup } from '../helpers/tiny_setup.js';

const setup = tinyAuditSetup();
const small = {
  model: setup.model,
  aux: { source: setup.aux },
  victim: { source: setup.victim },
  splits: [1],
  attacks: ['nn', 'sip'],
  defenses: [{ name: 'gaussian', levels: [0, 2], split: 1 }],
  tradeoffAttacks: ['nn'],
  leakage: { enabled: true, tokens: 256 },
  budget: { steps: 20, examples: 60, batchSize: 8, maxTokens: 16 },
  victimSegments: 12,
  scenarios: ['exact', { ...resolveScenario({ personalize: { mode: 'lora', steps: 6 } }) }],
  examples: 2,
  seed: 1,
};

/** Everything but wall-clock figures (dates, timings, seconds spent per attack). */
const strip = (r: AuditResults) =>
  JSON.parse(JSON.stringify({ ...r, created: '', timings: {} }, (k, v) => (k === 'seconds' ? 0 : v)));

test('config errors name the problem; list and defense syntax', () => {
  assert.throws(() => parseAuditConfig({ ...small, attacks: ['nope'] }), (e: Error) => e instanceof UsageError && /attacks/.test(e.message));
  assert.throws(() => parseAuditConfig({ ...small, model: '' }), /model/);
  assert.deepEqual(parseIntList('1..3', 'splits'), [1, 2, 3]);
  assert.deepEqual(parseIntList('2,4', 'splits'), [2, 4]);
  assert.throws(() => parseIntList('a,b', 'splits'), UsageError);
  assert.deepEqual(parseDefenseArg('gaussian:0,0.5@2'), { name: 'gaussian', levels: [0, 0.5], split: 2 });
  assert.throws(() => parseDefenseArg('gaussian'), /cannot read defense/);
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
  assert.equal(r.tradeoffs[0]!.levels.length, 2);
  assert.ok(r.examples.length > 0);
  for (const part of ['leakage', 'attacks', 'tradeoff']) assert.ok(seen.includes(part), `no progress for ${part}`);
  for (const part of ['load', 'leakage', 'attacks', 'tradeoff gaussian']) assert.ok(r.timings[part]! >= 0, `no timing for ${part}`);

  const out = join(setup.dir, 'report');
  const files = await writeReport(out, r);
  // Replaying the written config gives the same numbers (timings and dates aside).
  const replay = await runAudit(parseAuditConfig(JSON.parse(readFileSync(files.config, 'utf8'))));
  assert.deepEqual(strip(replay), strip(r));

  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  const facts = await inspectReport(files.html);
  assert.deepEqual(facts.consoleErrors, []);
  assert.ok(facts.charts.length >= 5 && facts.charts.every((c) => c.svgs === 1 && c.marks > 3));
  const results = JSON.parse(readFileSync(files.json, 'utf8'));
  assert.ok(facts.cells.length > 20);
  for (const cell of facts.cells) {
    const v = at(results, cell.key);
    if (cell.value === 'null') assert.ok(v === null || v === undefined, cell.key);
    else assert.equal(Number(cell.value), v, cell.key);
  }
});

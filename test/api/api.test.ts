// The package as a consumer sees it: imported by its name, typed, and enough to run a tiny sweep.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { ATTACK_NAMES, DEFENSE_NAMES, RevertlmError, attackSweep, resolveScenario, audit, createDefense, ksgMutualInformation, loadModel, tradeoff, type SweepResult } from 'revertlm';
import { tinyAuditSetup } from '../helpers/tiny_setup.js';

const setup = tinyAuditSetup();
after(() => rmSync(setup.dir, { recursive: true, force: true }));

test("import { attackSweep } from 'revertlm' runs a tiny sweep", async () => {
  const r: SweepResult = await attackSweep({
    model: setup.model, aux: { source: setup.aux }, victim: { source: setup.victim }, victimSegments: 6,
    splitPoints: [1], attacks: ['nn'], budget: { maxTokens: 16 }, scenarios: [resolveScenario({})],
  });
  const [only] = r.scenarios;
  assert.equal(only!.scenario.name, 'exact');
  assert.equal(only!.splits.length, 1);
  assert.ok(only!.splits[0]!.attacks.nn!.rougeL > 0);
  assert.equal(only!.victim.segments, 6);
});

test('the registries, estimators, model loading and the other experiments are exported with their types', async () => {
  assert.ok(ATTACK_NAMES.includes('revertlm') && DEFENSE_NAMES.includes('gaussian'));
  assert.equal(createDefense({ name: 'topk', level: 0.5 }).stage, 'activations');
  assert.equal(typeof ksgMutualInformation, 'function');
  assert.equal(typeof tradeoff, 'function');
  assert.equal(typeof audit, 'function');
  const m = loadModel(setup.model);
  assert.equal(m.config.nLayers, 2);
  m.dispose();
  await assert.rejects(attackSweep({ model: setup.model, splitPoints: [1], attacks: ['nn'] }), RevertlmError);
});

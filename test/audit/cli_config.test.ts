// The audit's flags and the demo's embedded configuration, as the CLI turns them into a config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromFlags, type AuditFlags } from '../../src/cli/commands/audit.js';
import { demoConfig } from '../../src/cli/commands/demo.js';
import { parseAuditConfig, revertlmConfigs } from '../../src/audit/config.js';
import { UsageError } from '../../src/util/errors.js';
import { projectRoot } from '../../src/util/root.js';

const base: AuditFlags = { model: 'm', aux: 'a.txt', victim: 'v.txt', out: 'o', leakage: true };

test('audit flags: default defense, NAME alone or with levels, --no-defenses, thresholds', () => {
  assert.deepEqual(configFromFlags(base).defenses, [{ name: 'gaussian', levels: [0, 1, 2, 4] }]);
  assert.deepEqual(configFromFlags({ ...base, defenses: ['quantize@2', 'gaussian:1,3'] }).defenses, [
    { name: 'quantize', levels: [0, 8, 4, 2], split: 2 },
    { name: 'gaussian', levels: [0, 1, 3] },
  ]);
  assert.deepEqual(configFromFlags({ ...base, defenses: false }).defenses, []);
  const t = configFromFlags({ ...base, thresholdRougeL: '0.3', thresholdPii: '0' }).thresholds;
  assert.equal(t.rougeL, 0.3);
  assert.equal(t.pii, 0);
  assert.throws(() => configFromFlags({ ...base, thresholdRougeL: '1.5' }), (e: Error) => e instanceof UsageError && /--threshold-rouge-l must be a number >= 0 and <= 1, got '1.5'/.test(e.message));
  assert.throws(() => configFromFlags({ ...base, thresholdPii: 'x' }), UsageError);
});

test('the demo: a personalized scenario beside the exact one, at least 4 levels per defense', () => {
  const cfg = parseAuditConfig(demoConfig(projectRoot()));
  assert.equal(cfg.scenarios.length, 2);
  assert.equal(cfg.scenarios[0], 'exact');
  assert.equal((cfg.scenarios[1] as { personalize: { mode: string } }).personalize.mode, 'lora');
  assert.ok(cfg.defenses.length > 0 && cfg.defenses.every((d) => d.levels.length >= 4 && d.levels.includes(0)));
});

test('RevertLM sizes in an audit config: validated, and given to every RevertLM variant', () => {
  const min = { model: 'm', aux: { source: 'a.txt' }, victim: { source: 'v.txt' } };
  const cfg = parseAuditConfig({ ...min, revertlm: { generator: { d: 64, memLayers: 1 } } });
  const configs = revertlmConfigs(cfg.revertlm)!;
  assert.deepEqual(configs.revertlm, { generator: { d: 64, memLayers: 1 } });
  assert.deepEqual(configs['revertlm-noadapt'], { generator: { d: 64, memLayers: 1 } });
  assert.equal((configs as Record<string, unknown>).sip, undefined);
  assert.equal(revertlmConfigs(parseAuditConfig(min).revertlm), undefined);
  assert.throws(() => parseAuditConfig({ ...min, revertlm: { generator: { dropout: 0.5 } } }), UsageError);
  assert.throws(() => parseAuditConfig({ ...min, revertlm: { projector: { d: 0 } } }), UsageError);
  assert.equal(parseAuditConfig(demoConfig(projectRoot())).revertlm?.generator?.d, 128);
});

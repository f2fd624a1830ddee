// The audit's flags and the demo's embedded configuration, as the CLI turns them into a config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromFlags, type AuditFlags } from '../../src/cli/commands/audit.js';
import { demoConfig } from '../../src/cli/commands/demo.js';
import { auditScenario, parseAuditConfig, revertlmConfigs } from '../../src/audit/config.js';
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

test('audit flags: scenarios (named, or built from flags), budget and victim windows, as the other experiment commands take them', () => {
  assert.deepEqual(configFromFlags(base).scenarios, ['exact', 'personalized']);
  assert.deepEqual(configFromFlags({ ...base, scenarios: 'exact, lora-all' }).scenarios, ['exact', 'lora-all']);
  const built = configFromFlags({ ...base, personalize: 'lora', personalizeSteps: '50', wireDtype: 'bfloat16' }).scenarios;
  assert.equal(built.length, 1);
  const s = auditScenario(built[0]!);
  assert.deepEqual([s.personalize.mode, s.personalize.steps, s.personalize.rank, s.knowledge, s.wireDtype], ['lora', 50, 8, 'pretrained', 'bfloat16']);
  const cfg = configFromFlags({ ...base, steps: '30', examples: '200', victimSegments: '8' });
  assert.deepEqual([cfg.budget, cfg.victimSegments], [{ steps: 30, examples: 200 }, 8]);
  assert.throws(() => configFromFlags({ ...base, scenarios: 'exact,foo' }), (e: Error) => e instanceof UsageError && /unknown scenario 'foo'/.test(e.message));
  assert.throws(() => configFromFlags({ ...base, knowledge: 'none' }), (e: Error) => e instanceof UsageError && /--knowledge 'none' is not one of/.test(e.message));
  // --config repeats a run: flags beside it would be ignored, so they are refused.
  assert.throws(() => configFromFlags({ out: 'o', leakage: true, config: '/nonexistent.json', splits: '2' }), (e: Error) => e instanceof UsageError && /--config repeats an audit exactly/.test(e.message));
});

test('audit config files: a source alone stands for a text set, scenarios may be given in part, and a wrong key or value is named', () => {
  const min = { model: 'm', aux: 'spamassassin:hard-ham-1', victim: { source: 'v.txt', format: 'lines' } };
  const cfg = parseAuditConfig({ ...min, scenarios: ['exact', { personalize: { mode: 'lora', steps: 10 } }] });
  assert.deepEqual(cfg.aux, { source: 'spamassassin:hard-ham-1' });
  const s = auditScenario(cfg.scenarios[1]!);
  assert.deepEqual([s.personalize.rank, s.personalize.targets, s.personalize.steps, s.knowledge, s.wireDtype], [8, ['q', 'v'], 10, 'pretrained', 'float32']);
  const rejects = (raw: unknown, re: RegExp) => assert.throws(() => parseAuditConfig(raw), (e: Error) => e instanceof UsageError && re.test(e.message), String(re));
  rejects({ ...min, scenarioz: ['exact'] }, /Unrecognized key: "scenarioz"/);
  rejects({ ...min, budget: { stepz: 3 } }, /budget: Unrecognized key: "stepz"/);
  rejects({ ...min, victim: { source: 'v.txt', fromat: 'lines' } }, /victim: Unrecognized key: "fromat"/);
  rejects({ model: 'm', victim: 'v.txt' }, /: aux: missing/);
  rejects({ ...min, scenarios: ['exactly'] }, /scenarios\.0: .*not a named scenario \(exact, personalized/);
  rejects({ ...min, scenarios: [{ personalize: { mode: 'lora', targets: ['q', 'z'] } }] }, /scenarios\.0\.personalize\.targets\.1: .*expected one of/);
  rejects({ ...min, defenses: [{ name: 'gaussian', levels: [1], scenario: { knowledge: 'all' } }] }, /defenses\.0\.scenario\.knowledge: /);
});

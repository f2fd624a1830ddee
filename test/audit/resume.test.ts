// An interrupted audit goes on where it stopped: the attack results it finished are kept and reused,
// and the resumed audit reports the same numbers as one run without interruption.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseAuditConfig } from '../../src/audit/config.js';
import { runAudit } from '../../src/audit/run.js';
import { resolveScenario } from '../../src/experiments/scenario.js';
import { ResultStore } from '../../src/experiments/result_store.js';
import type { AuditResults } from '../../src/report/index.js';
import { tinyAuditSetup } from '../helpers/tiny_setup.js';
import { runCli } from '../helpers/cli.js';

const setup = tinyAuditSetup();
after(() => rmSync(setup.dir, { recursive: true, force: true }));

const cfg = parseAuditConfig({
  model: setup.model, aux: { source: setup.aux }, victim: { source: setup.victim },
  splits: [1], attacks: ['nn', 'sip'], defenses: [], leakage: { enabled: false, tokens: 256 },
  budget: { steps: 20, examples: 60, batchSize: 8, maxTokens: 16 }, victimSegments: 12,
  scenarios: ['exact', resolveScenario({ personalize: { mode: 'lora', steps: 6 } })], examples: 2, seed: 1,
});
const strip = (r: AuditResults) =>
  JSON.parse(JSON.stringify({ ...r, created: '', timings: {}, resumed: undefined }, (k, v) => (/seconds$/.test(k) ? 0 : v)));

test('an interrupted audit resumes from its finished results and reports what an uninterrupted one does', async () => {
  const dir = join(setup.dir, 'unfinished');
  const scope = { config: cfg };
  const first = ResultStore.open(dir, scope, { resume: false });
  // Interrupted once two of the four attack results (2 attacks × 2 scenarios) are kept.
  await assert.rejects(runAudit(cfg, () => { if (first.size >= 2) throw new Error('interrupted'); }, { store: first }), /interrupted/);
  assert.equal(first.size, 2);

  const again = ResultStore.open(dir, scope, { resume: true });
  const resumed = await runAudit(cfg, undefined, { store: again });
  assert.equal(resumed.resumed, 2);
  assert.equal(again.size, 4);

  const whole = await runAudit(cfg);
  assert.equal(whole.resumed, undefined);
  assert.deepEqual(strip(resumed), strip(whole));
});

test('the CLI: --resume with nothing to resume starts afresh, and a finished audit leaves no unfinished results behind', () => {
  const out = join(setup.dir, 'cli-out');
  const r = runCli(['audit', '--model', setup.model, '--aux', setup.aux, '--victim', setup.victim, '--splits', '1', '--attacks', 'nn', '--no-defenses', '--no-leakage', '--out', out, '--resume', '--json'], { timeoutMs: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /nothing to resume in .*unfinished.*starting afresh/);
  const o = JSON.parse(r.stdout) as { results: string; resumed?: number };
  assert.equal(o.resumed, undefined);
  assert.ok(existsSync(o.results));
  assert.ok(!existsSync(join(out, 'unfinished')), 'the kept results are removed once the report is written');
});

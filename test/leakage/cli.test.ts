import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot, sharedPath, SHARED_MISSING } from '../helpers/shared.js';

const CLI = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');
const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'leakage', ...args], { encoding: 'utf8', timeout: 120000 });

test('revertlm leakage --json prints one JSON object with a row per requested layer', (t) => {
  const model = sharedPath('models/stories260K');
  const data = sharedPath('data/tinystories_sample.txt');
  if (!model || !data) return t.skip(SHARED_MISSING('models/stories260K'));
  const args = ['--model', model, '--data', data, '--separator', '<|endoftext|>', '--tokens', '300', '--estimators', 'ksg,probe,entropy,effective_rank,sparsity,kurtosis'];
  const r = run([...args, '--layers', '0,2..3', '--seed', '4', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { model: string; tokens: number; layers: Record<string, number | null>[] };
  assert.equal(out.model, 'stories260K');
  assert.equal(out.tokens, 300);
  assert.deepEqual(out.layers.map((l) => l.layer), [0, 2, 3]);
  for (const l of out.layers) {
    for (const k of ['ksg', 'infonce', 'probe', 'entropy', 'effective_rank', 'sparsity']) assert.ok(k in l, `field ${k}`);
    assert.equal(l.infonce, null, 'not requested');
    assert.equal(typeof l.ksg, 'number');
  }
  const table = run([...args, '--layers', '1']);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^model stories260K: 300 tokens/);
  assert.match(table.stdout, /\n\s+1\s+-?\d+\.\d{3}/);
});

test('revertlm leakage reports bad arguments as one clear line (exit 2)', (t) => {
  const model = sharedPath('models/stories260K');
  const data = sharedPath('data/tinystories_sample.txt');
  if (!model || !data) return t.skip(SHARED_MISSING('models/stories260K'));
  for (const [args, re] of [
    [['--layers', '0..9'], /out of range.*0\.\.5/],
    [['--layers', 'x'], /cannot read layer/],
    [['--estimators', 'ksg,foo'], /unknown estimator foo/],
    [['--tokens', 'ten'], /--tokens must be an integer/],
  ] as const) {
    const r = run(['--model', model, '--data', data, ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  const missing = run(['--model', join(model, 'nope'), '--data', data]);
  assert.equal(missing.status, 2, missing.stderr);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../src/util/root.js';

// The README's targets table is printed from results/*.json; a result re-recorded without the table
// regenerated (or a hand edit of the table) leaves the two disagreeing.
test('the README targets table is the one scripts/targets.mjs prints from the records', () => {
  const root = projectRoot();
  const out = spawnSync(process.execPath, [join(root, 'scripts', 'targets.mjs')], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /^\| target \| model \|/);
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = /<!-- targets:begin -->\n([\s\S]*?)<!-- targets:end -->/.exec(readme);
  assert.ok(m, 'README.md has no targets table between <!-- targets:begin --> and <!-- targets:end -->');
  assert.equal(m[1], out.stdout, 'README targets table is stale: paste the output of `node scripts/targets.mjs` between the markers');
});

test('scripts/targets.mjs --json prints one object whose every target has a status', () => {
  const out = spawnSync(process.execPath, [join(projectRoot(), 'scripts', 'targets.mjs'), '--json'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const j = JSON.parse(out.stdout) as { targets: { target: string; met: boolean | string | null }[] };
  assert.ok(j.targets.length >= 5);
  for (const t of j.targets) assert.ok(t.met === null || typeof t.met === 'boolean' || t.met === 'reported', t.target);
});

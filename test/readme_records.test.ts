import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../src/util/root.js';

// The README prints recorded runs (command, commit, tables) with scripts/results_tables.mjs; a record
// re-run without its block reprinted left the README quoting an older run's commit and figures.
test('every results block the README prints is the one scripts/results_tables.mjs prints from its record', () => {
  const root = projectRoot();
  const out = spawnSync(process.execPath, [join(root, 'scripts', 'results_tables.mjs')], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(out.status, 0, out.stderr);
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = out.stdout.split(/^### /m).slice(1);
  assert.ok(blocks.length > 0, 'results_tables.mjs printed no records');
  let quoted = 0;
  const stale: string[] = [];
  for (const block of blocks) {
    const [name, ...rest] = block.split('\n');
    if (!readme.includes(`→ \`results/${name}.json\``)) continue;
    quoted++;
    if (!readme.includes(rest.join('\n').trim())) stale.push(name!);
  }
  assert.ok(quoted >= 10, `the README quotes only ${quoted} records`);
  assert.deepEqual(stale, [], `README blocks differ from their records: reprint them with node scripts/results_tables.mjs ${stale.join(' ')}`);
});

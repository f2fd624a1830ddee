#!/usr/bin/env node
// Runs one revertlm command that prints one JSON object (--json) and writes it to results/<name>.json
// with where it came from: the command, the commit, the machine's cores and load, the date and the
// wall time, and the REVERTLM_* settings (threads) it ran with. Written atomically (temporary file + rename), so an interrupted run never leaves half a file.
// Usage: node scripts/record.mjs NAME -- ./revertlm <command> … --json
import { spawnSync, execSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

const [name, sep, ...cmd] = process.argv.slice(2);
if (!name || sep !== '--' || !cmd.length) {
  console.error('usage: node scripts/record.mjs NAME -- COMMAND… (the command prints one JSON object)');
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const git = (args) => execSync(`git ${args}`, { cwd: root, encoding: 'utf8' }).trim();
const started = new Date();
const loadBefore = loadavg()[0];
const t0 = performance.now();
const r = spawnSync(cmd[0], cmd.slice(1), { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 30 });
const seconds = (performance.now() - t0) / 1000;
if (r.status !== 0) {
  console.error(`record ${name}: the command exited with ${r.status ?? r.signal}`);
  process.exit(1);
}
let result;
try {
  result = JSON.parse(r.stdout);
} catch (e) {
  console.error(`record ${name}: the command did not print one JSON object (${e.message})`);
  process.exit(1);
}
const record = {
  name,
  command: cmd.join(' '),
  commit: git('rev-parse HEAD'),
  // Changes to recorded results do not count: reproduce.sh runs several entries in one checkout.
  dirty: git("status --porcelain --untracked-files=no -- . ':!results'") !== '',
  date: started.toISOString(),
  machine: { cores: cpus().length, load_before: loadBefore, load_after: loadavg()[0] },
  // Thread settings and other REVERTLM_* overrides the run was made with (none: the defaults).
  env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('REVERTLM_'))),
  seconds,
  result,
};
const dir = join(root, 'results');
mkdirSync(dir, { recursive: true });
const tmp = join(dir, `.${name}.${process.pid}.tmp`);
writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
renameSync(tmp, join(dir, `${name}.json`));
console.error(`record ${name}: ${seconds.toFixed(0)} s → results/${name}.json`);

// --json promises exactly one JSON object on stdout; a failed run printed nothing there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

function assertJsonError(args: string[], mention: RegExp): { error: string; hint: string | null } {
  const r = runCli(args);
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stdout, got: ${r.stdout}`);
  const o = JSON.parse(lines[0]!) as { error: string; hint: string | null };
  assert.deepEqual(Object.keys(o).sort(), ['error', 'hint']);
  assert.match(o.error, mention);
  assert.match(r.stderr, /revertlm: error:/, 'the human line still goes to stderr');
  return o;
}

test('with --json an error is one {"error", "hint"} object on stdout, exit 2', () => {
  assertJsonError(['attack', '--model', '/nonexistent-model', '--attack', 'nn', '--split', '0x2', '--aux', 'a', '--victim', 'v', '--json'], /--split must be an integer/);
  assertJsonError(['perplexity', '--model', '/nonexistent-model', '--data', '/nonexistent-file.txt', '--json'], /nonexistent-file/);
  // An error commander finds (a missing required option) too.
  assertJsonError(['perplexity', '--data', 'x.txt', '--json'], /--model/);
  // Bench options are checked before any work: --repeat belongs to the attack bench and counts from 1.
  assertJsonError(['bench', 'engine', '--repeat', '2', '--json'], /--repeat is an option of the attack benchmark/);
  assertJsonError(['bench', 'attack', '--repeat', '0', '--json'], /--repeat must be an integer >= 1/);
});

test('an audit config that is not JSON is named, with what to pass instead', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-cfg-'));
  try {
    const path = join(dir, 'config.json');
    writeFileSync(path, 'model: x\n');
    const o = assertJsonError(['audit', '--config', path, '--json'], /config file .*config\.json is not valid JSON/);
    assert.match(o.hint ?? '', /config\.json an earlier audit wrote/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without --json stdout stays empty on error', () => {
  const r = runCli(['perplexity', '--model', '/nonexistent-model', '--data', '/nonexistent-file.txt']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
});

// Every command checks its output paths before it starts working: each case below used to train,
// load or listen first and fail (or hang, under /proc) later. Each run here ends in seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertUsageFailure, runCli } from '../helpers/cli.js';

const quick = { timeoutMs: 30_000 };

function withDir(f: (d: string) => void): void {
  const d = mkdtempSync(join(tmpdir(), 'revertlm-outcli-'));
  try {
    f(d);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

test('pretrain --out refuses a non-empty directory (no file is touched) unless --force', () => {
  withDir((d) => {
    const data = join(d, 'corpus.txt');
    writeFileSync(data, 'the cat sat on the mat. '.repeat(400));
    const out = join(d, 'model');
    mkdirSync(out);
    writeFileSync(join(out, 'config.json'), '{"precious": true}');
    assertUsageFailure(assert, runCli(['pretrain', '--data', data, '--out', out], quick), /--out .*model is not empty/);
    assert.equal(readFileSync(join(out, 'config.json'), 'utf8'), '{"precious": true}');
    assertUsageFailure(assert, runCli(['pretrain', '--data', data, '--out', out, '--force', '--resume'], quick), /--force starts over/);
    const r = runCli(['pretrain', '--data', data, '--out', out, '--force', '--vocab', '260', '--d-model', '8', '--layers', '1', '--heads', '1', '--seq', '8', '--batch', '2', '--steps', '2', '--json'], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.notEqual(readFileSync(join(out, 'config.json'), 'utf8'), '{"precious": true}');
    assert.ok(existsSync(join(out, 'model.safetensors')));
    // A second run on the now-complete model directory is refused again (it holds the run's checkpoint).
    assertUsageFailure(assert, runCli(['pretrain', '--data', data, '--out', out], quick), /already holds a training checkpoint/);
  });
});

test('output paths that are files, or under /proc, fail before any work (audit, attack, serve, pretrain)', () => {
  withDir((d) => {
    const file = join(d, 'a-file');
    writeFileSync(file, 'x');
    const data = join(d, 'corpus.txt');
    writeFileSync(data, 'some text to read\n');
    const token = join(d, 'token');
    writeFileSync(token, 'a-long-enough-device-token-for-the-test-0123456789\n', { mode: 0o600 });
    const noModel = join(d, 'no-model');
    assertUsageFailure(assert, runCli(['audit', '--model', noModel, '--aux', data, '--victim', data, '--out', file], quick), /--out .*exists and is not a directory/);
    assertUsageFailure(assert, runCli(['attack', '--model', noModel, '--split', '1', '--attack', 'nn', '--aux', data, '--victim', data, '--save-attacker', file], quick), /--save-attacker .*exists and is not a directory/);
    const serve = ['serve', '--model', noModel, '--split', '1', '--port', '0', '--token-file', token];
    assertUsageFailure(assert, runCli([...serve, '--checkpoint-dir', file], quick), /--checkpoint-dir .*exists and is not a directory/);
    assertUsageFailure(assert, runCli([...serve, '--capture', file], quick), /--capture .*exists and is not a directory/);
    assertUsageFailure(assert, runCli([...serve, '--capture', '/proc/x'], quick), /pseudo-filesystem/);
    assertUsageFailure(assert, runCli(['pretrain', '--data', data, '--out', '/proc/x'], quick), /pseudo-filesystem/);
  });
});

// Output paths are checked before work starts (issue: `audit --out <file>` failed after 517 s,
// `serve --checkpoint-dir <file>` failed every session, `--capture /proc/x` hung).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputPathError, checkOutputPath } from '../../src/util/output_path.js';

const refused = (re: RegExp) => (e: unknown) => e instanceof OutputPathError && re.test(e.message) && !!e.hint;

test('a directory output: new, existing-empty and existing-with-files paths; files and file parents refused', () => {
  const d = mkdtempSync(join(tmpdir(), 'revertlm-out-'));
  try {
    assert.equal(checkOutputPath(join(d, 'new', 'deeper'), '--out'), join(d, 'new', 'deeper'));
    assert.equal(existsSync(join(d, 'new')), false, 'nothing is created');
    writeFileSync(join(d, 'file'), 'x');
    assert.throws(() => checkOutputPath(join(d, 'file'), '--out'), refused(/exists and is not a directory/));
    assert.throws(() => checkOutputPath(join(d, 'file', 'sub'), '--capture'), refused(/is a file, not a directory/));
    mkdirSync(join(d, 'full'));
    writeFileSync(join(d, 'full', 'config.json'), '{}');
    assert.equal(checkOutputPath(join(d, 'full'), '--out'), join(d, 'full'));
    assert.throws(() => checkOutputPath(join(d, 'full'), '--out', { empty: { hint: 'use --force' } }), (e: unknown) => e instanceof OutputPathError && /not empty \(1 entry\)/.test(e.message) && e.hint === 'use --force');
    assert.throws(() => checkOutputPath(d, '--save', { kind: 'file' }), refused(/is a directory/));
    assert.throws(() => checkOutputPath('', '--out'), refused(/is empty/));
    if (process.getuid?.() !== 0) {
      mkdirSync(join(d, 'ro'));
      chmodSync(join(d, 'ro'), 0o500);
      assert.throws(() => checkOutputPath(join(d, 'ro', 'x'), '--out'), refused(/not writable/));
      chmodSync(join(d, 'ro'), 0o700);
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('pseudo-filesystems are refused, also through a symlink, without touching them', () => {
  for (const p of ['/proc/x', '/proc/self/revertlm-out', '/sys/kernel/x', '/dev/x', '/dev/null']) {
    assert.throws(() => checkOutputPath(p, '--capture'), refused(/pseudo-filesystem/), p);
  }
  const d = mkdtempSync(join(tmpdir(), 'revertlm-out-'));
  try {
    symlinkSync('/proc', join(d, 'link'));
    assert.throws(() => checkOutputPath(join(d, 'link', 'x'), '--out'), refused(/pseudo-filesystem/));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

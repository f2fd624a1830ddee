// Binary and non-UTF-8 files were read as text (U+FFFD, NUL): `perplexity` on random bytes printed
// 2.2e9 and exit 0; Latin-1 and NUL-byte files went into `leakage` and `attack` unnoticed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeText, firstInvalidUtf8 } from '../../src/data/decode.js';
import { InputError, loadTexts, parseTextSourceArg } from '../../src/data/index.js';
import { assertUsageFailure, runCli } from '../helpers/cli.js';

const input = (re: RegExp) => (e: unknown) => e instanceof InputError && re.test(e.message);

test('decodeText takes UTF-8 (BOM, multi-byte) and refuses NUL bytes and invalid sequences with their offset', () => {
  assert.equal(decodeText(Buffer.from('\ufeffcafé ☕ 𝄞\n'), 'x'), 'café ☕ 𝄞\n', 'a BOM is dropped');
  assert.throws(() => decodeText(Buffer.from('hello\0world'), 'a.txt'), input(/a\.txt is not a text file \(NUL byte at offset 5\)/));
  assert.throws(() => decodeText(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20]), 'l1.txt'), input(/l1\.txt is not UTF-8 text \(byte 0xe9 at offset 3\)/));
  // Overlong, surrogate, truncated and out-of-range sequences.
  for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xff]]) {
    assert.equal(firstInvalidUtf8(Uint8Array.from([0x41, ...bad])), 1, bad.join(','));
    assert.throws(() => decodeText(Uint8Array.from([0x41, ...bad]), 'f'), input(/not UTF-8/));
  }
  assert.equal(firstInvalidUtf8(Buffer.from('€𝄞ok')), -1);
});

test('every text source reads through the check (lines, jsonl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-decode-'));
  try {
    const txt = join(dir, 'a.txt');
    writeFileSync(txt, Buffer.from('one\ntwo \xe9\n', 'latin1'));
    assert.throws(() => loadTexts(parseTextSourceArg(txt)), input(/not UTF-8/));
    const jl = join(dir, 'a.jsonl');
    writeFileSync(jl, Buffer.concat([Buffer.from('{"text":"a"}\n'), Buffer.from([0])]));
    assert.throws(() => loadTexts(parseTextSourceArg(jl, { field: 'text' })), input(/NUL byte/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('perplexity, leakage and attack refuse random bytes, Latin-1, NUL bytes, /dev/null and directories in one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-decode-cli-'));
  try {
    let s = 7;
    const random = Buffer.from(Array.from({ length: 4096 }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31), s >> 8) & 0xff));
    const files = { random, latin1: Buffer.from('caf\xe9 au lait\n', 'latin1'), nul: Buffer.from('hello\0world\n') };
    for (const [name, bytes] of Object.entries(files)) {
      const p = join(dir, `${name}.txt`);
      writeFileSync(p, bytes);
      // The data are read before the model: a missing model is never reached.
      assertUsageFailure(assert, runCli(['perplexity', '--model', '/nonexistent-model', '--data', p]), /is not (UTF-8 text|a text file)/);
      assertUsageFailure(assert, runCli(['leakage', '--model', '/nonexistent-model', '--data', p]), /is not (UTF-8 text|a text file)/);
    }
    assertUsageFailure(assert, runCli(['perplexity', '--model', '/nonexistent-model', '--data', '/dev/null']), /\/dev\/null is not a regular file/);
    assertUsageFailure(assert, runCli(['perplexity', '--model', '/nonexistent-model', '--data', dir]), /is not a regular file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

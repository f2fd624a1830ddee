// A bad --cert/--key/--ca surfaced as OpenSSL's bare "no start line"; now one line naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPem } from '../../src/cli/pem.js';
import { UsageError } from '../../src/util/errors.js';
import { assertUsageFailure, runCli } from '../helpers/cli.js';

test('PEM files are checked before TLS reads them', () => {
  const d = mkdtempSync(join(tmpdir(), 'revertlm-pem-'));
  try {
    const bad = join(d, 'bad.pem');
    writeFileSync(bad, 'not a certificate\n');
    const cert = join(d, 'cert.pem');
    writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    assert.throws(() => readPem('--cert', bad, 'CERTIFICATE'), (e: unknown) => e instanceof UsageError && /--cert .*bad\.pem is not a PEM certificate/.test(e.message));
    assert.throws(() => readPem('--key', cert, 'PRIVATE KEY'), (e: unknown) => e instanceof UsageError && /not a PEM private key/.test(e.message));
    assert.throws(() => readPem('--ca', join(d, 'missing.pem'), 'CERTIFICATE'), (e: unknown) => e instanceof UsageError && /--ca .*missing\.pem: file not found/.test(e.message));
    assert.ok(readPem('--cert', cert, 'CERTIFICATE').length > 0);
    const token = join(d, 'token');
    writeFileSync(token, 'a-long-enough-device-token-for-the-test-0123456789\n', { mode: 0o600 });
    const r = runCli(['serve', '--model', join(d, 'no-model'), '--split', '1', '--port', '0', '--token-file', token, '--cert', bad, '--key', bad], { timeoutMs: 30_000 });
    assertUsageFailure(assert, r, /--cert .* is not a PEM certificate/);
    assert.doesNotMatch(r.stderr, /no start line/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

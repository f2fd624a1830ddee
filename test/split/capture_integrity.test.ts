// What a capture says about itself (issue 16, item 6): a frame the server refused (NaN payload) was
// recorded as a normal forward, and records a crash truncated or whose chunk is missing were dropped
// without a word. Refusals are now marked by the server's error record and left out of the traffic;
// every dropped record and a torn index line are reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { CaptureReader, CaptureWriter, chunkFile, tensorToWire, type CaptureContext, type Message } from '../../src/split/index.js';
import { captureSource } from '../../src/experiments/capture_source.js';
import { tempDir, wire } from './cli_helpers.js';
import { RawClient, nextError, opened, startServer } from '../security/helpers.js';

test('a frame the server refused is recorded as a refusal, not as traffic', async () => {
  const dir = join(tempDir('revertlm-cap-refused-'), 'cap');
  const server = await startServer([], { captureDir: dir, captureDurable: false });
  const c = await RawClient.connect(server.url);
  const session = await opened(c, server, 'nan-device');
  c.send({ type: 'forward', session, step: 1, phase: 'eval' }, { hidden: wire([2, 4, 32]) });
  assert.equal((await c.next())?.msg.type, 'logits');
  const nan = torch.tidy(() => tensorToWire(torch.full([3, 4, 32], NaN), 'float32'));
  c.send({ type: 'forward', session, step: 2, phase: 'eval' }, { hidden: nan });
  const e = await nextError(c);
  assert.ok(e && /finite|NaN/i.test(e.message), JSON.stringify(e));
  await c.closed;
  await server.shutdown();

  const reader = CaptureReader.open(dir);
  try {
    const served = reader.records({ type: 'forward' });
    assert.deepEqual(served.map((r) => r.step), [1], 'only the served forward is traffic');
    const refusals = reader.refusals();
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]!.record.step, 2);
    assert.equal(refusals[0]!.code, e!.code);
    assert.equal(reader.records({ type: 'forward', refused: true }).length, 2);
    const err = reader.records({ type: 'error' })[0]!;
    assert.equal(err.refuses, refusals[0]!.record.record);
  } finally {
    reader.close();
  }
  const source = captureSource(dir);
  try {
    assert.equal(source.windows.length, 2, 'the 2 sequences of the served forward, not the 3 refused ones');
    assert.ok(source.warnings.some((w) => /step 2\) left out: the server refused it/.test(w)), source.warnings.join('\n'));
  } finally {
    source.dispose();
  }
});

test('records a crash truncated, a missing chunk and a torn index line are each reported', () => {
  const dir = join(tempDir('revertlm-cap-torn-'), 'cap');
  const ctx: CaptureContext = { deviceId: 'd', splitPoint: 1, tailBlocks: null, wireDtype: 'float32' };
  // One record per chunk (each 4 KiB of tensor bytes against a 4 KiB chunk limit).
  const w = new CaptureWriter(dir, { durable: false, maxChunkBytes: 4096 });
  for (let i = 0; i < 4; i++) {
    const msg: Message = { type: 'forward', session: 's', step: i + 1, seq: i, phase: 'eval' };
    torch.tidy(() => w.record(ctx, 'to_server', msg, { hidden: tensorToWire(torch.full([1, 32, 32], i), 'float32') }));
  }
  w.abandon();
  truncateSync(join(dir, chunkFile(1)), statSync(join(dir, chunkFile(1))).size - 100);
  rmSync(join(dir, chunkFile(3)));
  appendFileSync(join(dir, 'index.jsonl'), '{"record": 4, "ti');
  const reader = CaptureReader.open(dir);
  try {
    assert.deepEqual(reader.records().map((r) => r.step), [1, 3]);
    assert.equal(reader.dropped, 2);
    assert.equal(reader.warnings.length, 3, reader.warnings.join('\n'));
    assert.ok(reader.warnings.some((x) => /last line is incomplete/.test(x)));
    assert.ok(reader.warnings.some((x) => /record 1 .*step 2\) dropped: chunk-000001\.bin ends at byte 3996/.test(x)), reader.warnings.join('\n'));
    assert.ok(reader.warnings.some((x) => /record 3 .*dropped: chunk-000003\.bin is missing/.test(x)));
  } finally {
    reader.close();
  }
});

// Requests that used to get a raw or a wrong answer (issue 16, item 8): generate_step with no
// positions answered `internal: select(): index -1 out of range`; a checkpoint at step 999 without
// any training was acknowledged as `step 999 saved`; a 128-character id of dots became a directory
// name over 255 bytes (ENAMETOOLONG on every session).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deviceDir } from '../../src/split/server/server.js';
import { tempDir, wire } from '../split/cli_helpers.js';
import { RawClient, nextError, opened, startServer } from './helpers.js';

test('generate_step with T = 0 is a bad request with a clear message, not an internal error', async () => {
  const server = await startServer([]);
  const c = await RawClient.connect(server.url);
  const session = await opened(c, server, 'gen-empty');
  c.send({ type: 'generate_step', session, step: 1, cacheId: 'g', positionOffset: 0, reset: true, sampling: { temperature: 0, topK: 0 } }, { hidden: wire([1, 0, 32]) });
  const e = await nextError(c);
  assert.equal(e?.code, 'bad_request');
  assert.match(e!.message, /hidden \[1, 0, 32\] is empty/);
});

test('a checkpoint at a step the device never worked on is refused', async () => {
  const logs: string[] = [];
  const dir = tempDir('revertlm-sec-ckpt-');
  const server = await startServer(logs, { checkpointDir: dir });
  const c = await RawClient.connect(server.url);
  const session = await opened(c, server, 'ckpt-999');
  c.send({ type: 'checkpoint', session, step: 999, tag: 'x' });
  const e = await nextError(c);
  assert.equal(e?.code, 'bad_request');
  assert.match(e!.message, /checkpoint at step 999, but device 'ckpt-999' is at step 0/);
  assert.equal(readdirSync(dir).length, 0, 'nothing saved');
  // Step 0 (nothing trained yet) is what the device has: acknowledged.
  const c2 = await RawClient.connect(server.url);
  const s2 = await opened(c2, server, 'ckpt-0');
  c2.send({ type: 'checkpoint', session: s2, step: 0, tag: 'x' });
  const ack = await c2.next();
  assert.equal(ack?.msg.type, 'ack');
  c2.ws.close();
});

test('device ids of up to 128 characters of any allowed kind map to short, distinct directory names', async () => {
  const ids = ['.'.repeat(128), '.'.repeat(127), ':'.repeat(128), `${'a'.repeat(127)}.`, 'dev-a', 'a.b'];
  const names = ids.map(deviceDir);
  for (const n of names) assert.ok(Buffer.byteLength(n) <= 255 && !n.includes('/'), n);
  assert.equal(new Set(names).size, ids.length);
  assert.equal(deviceDir('dev-a'), 'device-dev-a', 'short ids keep their directory (existing checkpoints stay found)');
  assert.equal(deviceDir('a.b'), 'device-a%2eb');
  // A session of the dotted id trains and its checkpoint lands on disk.
  const dir = tempDir('revertlm-sec-id-');
  const server = await startServer([], { checkpointDir: dir });
  const c = await RawClient.connect(server.url);
  const session = await opened(c, server, ids[0]!);
  c.send({ type: 'forward', session, step: 1, phase: 'eval' }, { hidden: wire([1, 4, 32]) });
  assert.equal((await c.next())?.msg.type, 'logits');
  c.send({ type: 'checkpoint', session, step: 1, tag: 'x' });
  const ack = await c.next();
  assert.equal(ack?.msg.type, 'ack', JSON.stringify(ack?.msg));
  c.ws.close();
  assert.ok(existsSync(join(dir, deviceDir(ids[0]!), 'state.json')));
});

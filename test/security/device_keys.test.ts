// Device ids bound to a per-device key (issue 16, item 3): anyone holding the shared token could say
// hello as another device id, train one step and so make the server drop that device's later
// snapshots; the real device could then never resume. The first hello that presents a key binds the
// id to it; afterwards the id opens only with that key, also after a server restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROTOCOL_VERSION } from '../../src/split/protocol/index.js';
import { SplitDevice } from '../../src/split/device/index.js';
import { DEVICE_KEY_FILE } from '../../src/split/device/device_key.js';
import { LORA, LR, tempDir } from '../split/cli_helpers.js';
import { RawClient, S, startServer } from './helpers.js';
import type { SplitServer } from '../../src/split/server/index.js';

/** Says hello as `id` (with `key`, if any); returns the code of the error, or 'welcome'. */
async function helloAs(server: SplitServer, id: string, key?: string): Promise<string> {
  const c = await RawClient.connect(server.url);
  c.send({
    type: 'hello', deviceId: id, authToken: S.token, ...(key ? { deviceKey: key } : {}), modelFingerprint: server.fingerprint, splitPoint: 1, tail: null,
    wireDtype: 'float32', protocolVersion: PROTOCOL_VERSION,
  });
  const f = await c.next();
  c.ws.close();
  await c.closed;
  return f?.msg.type === 'welcome' ? 'welcome' : f?.msg.type === 'error' ? f.msg.code : String(f?.msg.type);
}

const key = () => randomBytes(32).toString('hex');

test('an id bound to a key opens only with that key, across a server restart; the key never reaches a capture', async () => {
  const dir = tempDir('revertlm-sec-keys-');
  const ck = join(dir, 'ck');
  const cap = join(dir, 'cap');
  const k1 = key();
  const first = await startServer([], { checkpointDir: ck, captureDir: cap, captureDurable: false });
  assert.equal(await helloAs(first, 'owner', k1), 'welcome', 'first use binds');
  assert.equal(await helloAs(first, 'owner'), 'unauthorized', 'no key');
  assert.equal(await helloAs(first, 'owner', key()), 'unauthorized', 'another key');
  assert.equal(await helloAs(first, 'owner', k1), 'welcome');
  assert.equal(await helloAs(first, 'legacy'), 'welcome', 'an id never bound still opens without a key');
  await first.shutdown();
  assert.ok(!readFileSync(join(cap, 'index.jsonl'), 'utf8').includes(k1), 'the key is not recorded');
  assert.equal(statSync(join(ck, 'device-keys.json')).mode & 0o077, 0, 'bindings readable by the server user only');
  const second = await startServer([], { checkpointDir: ck });
  assert.equal(await helloAs(second, 'owner', key()), 'unauthorized', 'the binding survives a restart');
  assert.equal(await helloAs(second, 'owner', k1), 'welcome');
});

test('a device with a checkpoint directory makes its key once and resumes with it; an impostor cannot train its id', async () => {
  const dir = tempDir('revertlm-sec-devkey-');
  const server = await startServer([], { checkpointDir: join(dir, 'server') });
  const devDir = join(dir, 'device');
  const device = () => new SplitDevice({
    modelDir: S.model, splitPoint: 1, server: server.url, token: S.token, deviceId: 'victim', lora: LORA, lr: LR,
    checkpointEvery: 2, checkpointDir: devDir, retries: 0, backoffMs: 10, log: () => undefined,
  });
  const a = device();
  await a.finetune({ texts: S.textsA, steps: 2, batch: 2, seq: 16 });
  a.dispose();
  assert.ok(readdirSync(devDir).includes(DEVICE_KEY_FILE));
  assert.equal(statSync(join(devDir, DEVICE_KEY_FILE)).mode & 0o077, 0);
  // The impostor holds the token but not the key (its own checkpoint directory has another one).
  const impostor = new SplitDevice({
    modelDir: S.model, splitPoint: 1, server: server.url, token: S.token, deviceId: 'victim', lora: LORA, lr: LR,
    checkpointEvery: 2, checkpointDir: join(dir, 'impostor'), retries: 0, backoffMs: 10, log: () => undefined,
  });
  await assert.rejects(impostor.finetune({ texts: S.textsB, steps: 1, batch: 2, seq: 16 }), /bound to another device key/);
  impostor.dispose();
  const b = device();
  const r = await b.finetune({ texts: S.textsA, steps: 4, batch: 2, seq: 16 });
  b.dispose();
  assert.equal(r.steps, 4, 'the real device resumes');
});

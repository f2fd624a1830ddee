// Operator-provisioned device credentials (issue 16, item 3): with `serve --device-keys FILE` the
// server admits exactly the ids in the file, each only with its own key (`revertlm device-key add`
// writes both); other ids and hellos without the right key are refused with a clear error, and the
// file is read again when it changes, so devices are added and revoked while the server runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SplitDevice } from '../../src/split/device/index.js';
import { readDeviceKey } from '../../src/split/device/device_key.js';
import { DeviceKeyError, SplitServer, addDeviceKey, removeDeviceKey } from '../../src/split/server/index.js';
import { LORA, LR, loraArgs, runCli, tempDir } from '../split/cli_helpers.js';
import { S, helloAs, serverOptions, startServer } from './helpers.js';

const key = () => randomBytes(32).toString('hex');

test('with provisioned keys, only the ids in the file open, each with its own key; the file is read again when it changes', async () => {
  const dir = tempDir('revertlm-sec-prov-');
  const file = join(dir, 'device-keys.json');
  const ck = join(dir, 'ck');
  const k1 = addDeviceKey(file, 'dev-1', join(dir, 'dev-1.key'));
  assert.equal(readDeviceKey(join(dir, 'dev-1.key')), k1);
  for (const f of [file, join(dir, 'dev-1.key')]) assert.equal(statSync(f).mode & 0o077, 0, `${f} is readable by its owner only`);
  assert.ok(!readFileSync(file, 'utf8').includes(k1), 'the server file holds hashes only');
  assert.throws(() => addDeviceKey(file, 'dev-1', join(dir, 'again.key')), (e: Error) => e instanceof DeviceKeyError && /already has a key/.test(e.message) && /--replace/.test((e as DeviceKeyError).hint!));
  assert.ok(!existsSync(join(dir, 'again.key')));
  assert.throws(() => addDeviceKey(file, 'dev-3', join(dir, 'dev-1.key')), /already exists/);

  const server = await startServer([], { deviceKeysFile: file, checkpointDir: ck });
  const ok = await helloAs(server, 'dev-1', k1);
  assert.equal(ok.code, 'welcome');
  assert.equal(ok.welcome!.deviceKey, undefined, 'a provisioning server issues no keys');
  assert.deepEqual(await helloAs(server, 'dev-1'), { code: 'unauthorized', message: "device id 'dev-1' needs its device key: run the device with --device-key FILE (the file `revertlm device-key add` wrote)" });
  assert.deepEqual(await helloAs(server, 'dev-1', key()), { code: 'unauthorized', message: "device id 'dev-1' is bound to another device key" });
  for (const k of [undefined, key()]) {
    const r = await helloAs(server, 'stranger', k);
    assert.equal(r.code, 'unauthorized');
    assert.match(r.message!, /^device id 'stranger' is not provisioned on this server: the operator adds it with `revertlm device-key add --id stranger`/);
  }

  const k2 = addDeviceKey(file, 'dev-2', join(dir, 'dev-2.key'));
  assert.equal((await helloAs(server, 'dev-2', k2)).code, 'welcome', 'added while the server runs');
  removeDeviceKey(file, 'dev-1');
  assert.match((await helloAs(server, 'dev-1', k1)).message!, /'dev-1' is not provisioned/, 'revoked while the server runs');

  const devDir = join(dir, 'device');
  const dev = new SplitDevice({
    modelDir: S.model, splitPoint: 1, server: server.url, token: S.token, deviceId: 'dev-2', deviceKey: k2, lora: LORA, lr: LR,
    checkpointEvery: 2, checkpointDir: devDir, retries: 0, log: () => undefined,
  });
  const r = await dev.finetune({ texts: S.textsA, steps: 2, batch: 2, seq: 16 });
  dev.dispose();
  assert.equal(r.steps, 2);
  assert.ok(!existsSync(join(devDir, 'device.key')), 'a provisioned key stays where the operator put it');
  assert.ok(!existsSync(join(ck, 'device-keys.json')), 'the server binds nothing on first use');
});

test('a server whose --device-keys file is missing or damaged does not start: one error with a hint', async () => {
  const dir = tempDir('revertlm-sec-prov-bad-');
  await assert.rejects(SplitServer.start(serverOptions([], { deviceKeysFile: join(dir, 'missing.json') })), (e: Error) =>
    e instanceof DeviceKeyError && /missing\.json: no such device key file/.test(e.message) && /revertlm device-key add/.test(e.hint!));
  const bad = join(dir, 'bad.json');
  addDeviceKey(bad, 'dev-1', join(dir, 'dev-1.key'));
  const json = JSON.parse(readFileSync(bad, 'utf8'));
  json.devices['dev-1'] = 'not a hash';
  writeFileSync(bad, JSON.stringify(json));
  await assert.rejects(SplitServer.start(serverOptions([], { deviceKeysFile: bad })), (e: Error) => e instanceof DeviceKeyError && /bad\.json: not a device key file \(devices\.dev-1: /.test(e.message));
});

test('CLI: `device-key add` writes the key file and the hash; `device --device-key` presents the key', async () => {
  const dir = tempDir('revertlm-sec-prov-cli-');
  const file = join(dir, 'device-keys.json');
  const out = join(dir, 'phone.key');
  const add = await runCli(['device-key', 'add', '--device-keys', file, '--id', 'phone', '--out', out]);
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stdout, `device 'phone' added to ${file}; its key is in ${out} (give it to the device: revertlm device --device-key ${out})\n`);
  const server = await startServer([], { deviceKeysFile: file });
  const base = ['device', '--model', S.model, '--split', '1', '--server', server.url, '--token-file', S.tokenFile, '--device-id', 'phone', '--data', S.dataA,
    '--finetune', '--steps', '1', '--batch', '2', '--seq', '16', '--retries', '0', '--json', ...loraArgs()];
  const run = await runCli([...base, '--device-key', out]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).steps, 1);
  assert.equal((await helloAs(server, 'phone')).code, 'unauthorized', 'the key is needed');
});

// Device ids bound to a per-device key (issue 16, item 3): anyone holding the shared token could say
// hello as another device id, train one step and so make the server drop that device's later
// snapshots; the real device could then never resume. Without provisioned keys an id is bound at its
// first session, to the key its hello presents or to one the server issues in the welcome; afterwards
// the id opens only with that key, also after a server restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SplitDevice, connectWebSocket } from '../../src/split/device/index.js';
import { DEVICE_KEY_FILE } from '../../src/split/device/device_key.js';
import { deviceDir } from '../../src/split/server/index.js';
import { LORA, LR, tempDir } from '../split/cli_helpers.js';
import { RawClient, S, helloAs, startServer, trainOne, until } from './helpers.js';
import type { SplitServer } from '../../src/split/server/index.js';

const key = () => randomBytes(32).toString('hex');

/** Opens a session as `id` (with `key`, if any); returns the client, its session and the key the welcome issued. */
async function open(server: SplitServer, id: string, k?: string): Promise<{ c: RawClient; session: string; issued?: string }> {
  const c = await RawClient.connect(server.url);
  c.hello(S.token, id, server.fingerprint, { deviceKey: k });
  const w = await c.next();
  if (w?.msg.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(w?.msg)}`);
  return { c, session: w.msg.session, issued: w.msg.deviceKey };
}

test('an id is bound at its first step to the key its hello presents, or to one the server issues; it then opens only with that key, across a restart', async () => {
  const dir = tempDir('revertlm-sec-keys-');
  const ck = join(dir, 'ck');
  const cap = join(dir, 'cap');
  const k1 = key();
  const logs: string[] = [];
  const first = await startServer(logs, { checkpointDir: ck, captureDir: cap, captureDurable: false });

  const owner = await open(first, 'owner', k1);
  assert.equal(owner.issued, undefined, 'a device that presents a key is issued none');
  await trainOne(owner.c, owner.session);
  assert.equal((await helloAs(first, 'owner')).code, 'unauthorized', 'no key');
  assert.deepEqual(await helloAs(first, 'owner', key()), { code: 'unauthorized', message: "device id 'owner' is bound to another device key" });
  assert.equal((await helloAs(first, 'owner', k1)).code, 'welcome');

  const fresh = await open(first, 'fresh');
  assert.match(fresh.issued ?? '', /^[0-9a-f]{64}$/, 'a hello without a key is issued one in the welcome');
  await trainOne(fresh.c, fresh.session);
  const noKey = await helloAs(first, 'fresh');
  assert.equal(noKey.code, 'unauthorized');
  assert.match(noKey.message!, /^device id 'fresh' is bound to a device key, and this hello carries none: run the device with the --checkpoint-dir \(its device.key\) or --device-key it used before$/);
  assert.equal((await helloAs(first, 'fresh', fresh.issued)).code, 'welcome');

  // An id whose session changed nothing stays unbound, as it leaves no state.
  const idle = await open(first, 'idle');
  assert.ok(idle.issued);
  idle.c.ws.close();
  await until(() => logs.some((l) => / session ended .*device=idle /.test(l)), 'the idle session to end');
  const again = await helloAs(first, 'idle');
  assert.equal(again.code, 'welcome');
  assert.notEqual(again.welcome?.deviceKey, idle.issued, 'a new key');

  await first.shutdown();
  const file = readFileSync(join(ck, 'device-keys.json'), 'utf8');
  assert.deepEqual(Object.keys(JSON.parse(file).devices), ['fresh', 'owner']);
  assert.ok(!file.includes(k1) && !file.includes(fresh.issued!), 'hashes only');
  assert.equal(statSync(join(ck, 'device-keys.json')).mode & 0o077, 0, 'bindings readable by the server user only');
  const index = readFileSync(join(cap, 'index.jsonl'), 'utf8');
  assert.ok(!index.includes(k1) && !index.includes(fresh.issued!), 'no key is recorded in the capture');

  const second = await startServer([], { checkpointDir: ck });
  assert.equal((await helloAs(second, 'owner', key())).code, 'unauthorized', 'the binding survives a restart');
  assert.equal((await helloAs(second, 'owner', k1)).code, 'welcome');
  assert.equal((await helloAs(second, 'fresh')).code, 'unauthorized');
  assert.equal((await helloAs(second, 'fresh', fresh.issued)).code, 'welcome');
});

test('a device with a checkpoint directory keeps the key the server issued and resumes with it; an impostor cannot train its id', async () => {
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
  assert.match(readFileSync(join(devDir, DEVICE_KEY_FILE), 'utf8'), /^[0-9a-f]{64}\n$/);
  assert.equal(statSync(join(devDir, DEVICE_KEY_FILE)).mode & 0o077, 0);
  // The impostor holds the token but not the key (its own checkpoint directory has none).
  const impostor = new SplitDevice({
    modelDir: S.model, splitPoint: 1, server: server.url, token: S.token, deviceId: 'victim', lora: LORA, lr: LR,
    checkpointEvery: 2, checkpointDir: join(dir, 'impostor'), retries: 0, backoffMs: 10, log: () => undefined,
  });
  await assert.rejects(impostor.finetune({ texts: S.textsB, steps: 1, batch: 2, seq: 16 }), /is bound to a device key, and this hello carries none/);
  impostor.dispose();
  const b = device();
  const r = await b.finetune({ texts: S.textsA, steps: 4, batch: 2, seq: 16 });
  b.dispose();
  assert.equal(r.steps, 4, 'the real device resumes');
  assert.equal(r.startStep, 2);
});

test('a device without a checkpoint directory reconnects with its issued key (kept in memory); no one else can train its id or drop its snapshots', async () => {
  const dir = tempDir('revertlm-sec-memkey-');
  const ck = join(dir, 'server');
  const server = await startServer([], { checkpointDir: ck });
  let attempts = 0;
  const lines: string[] = [];
  const victim = new SplitDevice({
    modelDir: S.model, splitPoint: 1, server: server.url, token: S.token, deviceId: 'victim', lora: LORA, lr: LR,
    checkpointEvery: 2, retries: 2, backoffMs: 10, log: (l) => lines.push(l),
    // The first link is lost after step 3's gradient: the device reconnects and resumes from step 2.
    connect: async () => {
      const t = await connectWebSocket(server.url);
      if (attempts++ > 0) return t;
      const receive = t.receive.bind(t);
      t.receive = async (o) => {
        const f = await receive(o);
        if (f.msg.type === 'gradient' && f.msg.step === 3) await t.close('link lost');
        return f;
      };
      return t;
    },
  });
  const r = await victim.finetune({ texts: S.textsA, steps: 4, batch: 2, seq: 16 });
  victim.dispose();
  assert.equal(r.steps, 4);
  assert.equal(r.reconnects, 1);
  assert.ok(lines.some((l) => /the server issued this device's key \(kept in memory/.test(l)));
  // What the server committed for the victim: snapshots of steps 2 and 4.
  const victimDir = join(ck, deviceDir('victim'));
  const files = () => readdirSync(victimDir).sort();
  const before = { files: files(), index: readFileSync(join(victimDir, 'state.json'), 'utf8') };
  assert.deepEqual(before.files.filter((f) => f.endsWith('-device.safetensors')), ['step-00000002-device.safetensors', 'step-00000004-device.safetensors']);

  assert.equal((await helloAs(server, 'victim')).code, 'unauthorized');
  assert.equal((await helloAs(server, 'victim', key())).code, 'unauthorized');
  // A device starting over under the victim's id would rewind it to step 0 and drop every snapshot.
  const impostor = new SplitDevice({
    modelDir: S.model, splitPoint: 1, server: server.url, token: S.token, deviceId: 'victim', lora: LORA, lr: LR, retries: 0, log: () => undefined,
  });
  await assert.rejects(impostor.finetune({ texts: S.textsB, steps: 1, batch: 2, seq: 16 }), /'victim' is bound to a device key/);
  impostor.dispose();
  assert.deepEqual({ files: files(), index: readFileSync(join(victimDir, 'state.json'), 'utf8') }, before, 'the victim\'s committed snapshots are untouched');
});

// Per-device state is bounded (issue 16, item 5): 500 ids that said hello and left added 500
// directories and stayed in memory; captures recorded the logits the server returns (545 MB for 15
// eval frames) with no size cap; idle devices stayed in memory for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureReader } from '../../src/split/capture/index.js';
import { SplitDevice } from '../../src/split/device/index.js';
import { LORA, LR, maxDiff, tempDir, unsplitLosses, wire } from '../split/cli_helpers.js';
import { RawClient, S, opened, startServer } from './helpers.js';

test('ids that say hello and leave without training leave no directory and no state behind', async () => {
  const dir = tempDir('revertlm-sec-ids-');
  const server = await startServer([], { checkpointDir: dir });
  const ids = Array.from({ length: 40 }, (_, i) => `passer-by-${i}`);
  for (const id of ids) {
    const c = await RawClient.connect(server.url);
    const session = await opened(c, server, id);
    c.send({ type: 'bye', session, step: 0, reason: 'done' });
    c.ws.close();
    await c.closed;
  }
  const t0 = Date.now();
  while (ids.some((id) => server.device(id)) && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(ids.filter((id) => server.device(id)), [], 'no state kept in memory');
  assert.deepEqual(readdirSync(dir), [], 'no directory created');
});

test('captures keep what attacks read (not the logits returned), and stop cleanly at their size cap', async () => {
  const logs: string[] = [];
  const root = tempDir('revertlm-sec-cap-');
  const run = async (name: string, o: { captureAll?: boolean; captureMaxBytes?: number }) => {
    const dir = join(root, name);
    const server = await startServer(logs, { captureDir: dir, captureDurable: false, ...o });
    const c = await RawClient.connect(server.url);
    const session = await opened(c, server, `cap-${name}`);
    for (let step = 1; step <= 3; step++) {
      c.send({ type: 'forward', session, step, phase: 'eval' }, { hidden: wire([2, 8, 32]) });
      assert.equal((await c.next())?.msg.type, 'logits');
    }
    c.ws.close();
    await c.closed;
    await server.shutdown();
    return CaptureReader.open(dir);
  };
  const lean = await run('lean', {});
  const logits = lean.records({ type: 'logits' });
  assert.equal(logits.length, 3);
  assert.ok(logits.every((r) => r.tensors.length === 0 && r.omitted?.[0] === 'logits'));
  assert.equal(lean.records({ type: 'forward' }).filter((r) => r.tensors.some((t) => t.name === 'hidden')).length, 3, 'the activations are all there');
  lean.close();

  const full = await run('full', { captureAll: true });
  assert.ok(full.records({ type: 'logits' }).every((r) => r.tensors.some((t) => t.name === 'logits')));
  full.close();

  // 2 × 8 × 32 float32 = 2 KiB per forward: a 5 KiB cap holds two.
  const capped = await run('capped', { captureMaxBytes: 5 * 1024 });
  assert.equal(capped.records({ type: 'forward' }).length, 2);
  assert.match(capped.manifest?.stopped ?? '', /reached its cap of 5120 tensor bytes/);
  assert.ok(capped.warnings.some((w) => /reached its cap/.test(w)));
  capped.close();
  assert.equal(logs.filter((l) => / capture stopped /.test(l)).length, 1, 'one log line when it stops');
});

test('idle trained devices beyond --max-idle-devices leave memory and resume exactly from disk', async () => {
  const logs: string[] = [];
  const dir = tempDir('revertlm-sec-idle-');
  const server = await startServer(logs, { checkpointDir: dir, maxIdleDevices: 1 });
  const run = { batch: 2, seq: 16 } as const;
  const device = (id: string) => new SplitDevice({
    modelDir: S.model, splitPoint: 1, server: server.url, token: S.token, deviceId: id, lora: LORA, lr: LR,
    checkpointEvery: 2, checkpointDir: join(dir, `client-${id}`), retries: 2, backoffMs: 50, log: () => undefined,
  });
  const a = device('idle-a');
  await a.finetune({ texts: S.textsA, steps: 2, ...run });
  a.dispose();
  const b = device('idle-b');
  await b.finetune({ texts: S.textsB, steps: 2, ...run });
  b.dispose();
  const t0 = Date.now();
  while (server.device('idle-a') && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.device('idle-a'), undefined, 'the least recently used idle device left memory');
  assert.ok(server.device('idle-b'), 'the most recent one stays');
  assert.ok(logs.some((l) => /device state released from memory device=idle-a step=2/.test(l)));
  // It comes back: its state is reloaded from disk and training continues exactly as unsplit.
  const again = device('idle-a');
  const r = await again.finetune({ texts: S.textsA, steps: 4, ...run });
  again.dispose();
  const ref = unsplitLosses(S.model, S.textsA, { steps: 4, ...run });
  assert.ok(maxDiff(r.losses, ref) < 1e-5, `${r.losses} vs ${ref}`);
});

// Fair scheduling on the single-threaded server (issue 16, item 4): served in arrival order, a device
// sending frame after frame kept another device's step waiting behind all of them. Frames now wait
// in per-device queues (bounded) and devices take turns of at most --max-frame-work of work each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig } from '../../src/models/index.js';
import { FairQueue, frameWork } from '../../src/split/server/index.js';
import { ids64, tempDir, wire } from '../split/cli_helpers.js';
import { RawClient, S, nextError, opened, startServer } from './helpers.js';

/** Serves everything queued, the consumer taking each item at once; returns the keys in service order. */
function drain<T>(q: FairQueue<string, T>, between: (served: number) => void = () => undefined): string[] {
  const order: string[] = [];
  for (const k of ['a', 'b', 'c']) q.ready(k);
  for (let n = q.next(); n; n = q.next()) {
    order.push(n.key);
    q.ready(n.key);
    between(order.length);
  }
  return order;
}

test('FairQueue: a device that queues one frame behind another device\'s many is served after at most one of them', () => {
  const q = new FairQueue<string, number>(100, 64);
  for (let i = 0; i < 10; i++) assert.ok(q.push('a', i, 100));
  const order = drain(q, (served) => served === 3 && q.push('b', 0, 100));
  assert.deepEqual(order, ['a', 'a', 'a', 'b', 'a', 'a', 'a', 'a', 'a', 'a', 'a'], 'b arrived after a\'s third frame and went next');
});

test('FairQueue: a turn serves one quantum of work; each device\'s frames keep their order', () => {
  const q = new FairQueue<string, string>(100, 64);
  for (let i = 0; i < 8; i++) q.push('a', `a${i}`, 25);
  for (let i = 0; i < 3; i++) q.push('b', `b${i}`, 60);
  q.push('c', 'c0', 0);
  const items: string[] = [];
  for (const k of ['a', 'b', 'c']) q.ready(k);
  for (let n = q.next(); n; n = q.next()) {
    items.push(n.item);
    q.ready(n.key);
  }
  // a: four frames of 25 per turn; b: one of 60 (a second would pass 100); c: its one frame.
  assert.deepEqual(items, ['a0', 'a1', 'a2', 'a3', 'b0', 'c0', 'a4', 'a5', 'a6', 'a7', 'b1', 'b2']);
});

test('FairQueue: a device waits its turn only while its consumer is ready; the queue of each device is bounded', () => {
  const q = new FairQueue<string, number>(100, 3);
  q.push('a', 1, 10);
  q.push('b', 1, 10);
  q.ready('b');
  assert.equal(q.next()?.key, 'b', 'a is still handling its previous frame: b goes first');
  assert.equal(q.next(), null, 'b is busy with its frame, a not ready');
  q.ready('a');
  assert.equal(q.next()?.key, 'a');
  assert.ok(q.push('c', 1, 1) && q.push('c', 2, 1) && q.push('c', 3, 1));
  assert.equal(q.push('c', 4, 1), false, 'a fourth frame waiting is refused');
  assert.equal(q.queued('c'), 3);
  assert.deepEqual(q.remove('c'), [1, 2, 3]);
  assert.equal(q.queued('c'), 0);
});

test('loopback: a device flooding the server with frames at the work bound delays another device\'s step by about one of its frames', async () => {
  const cap = join(tempDir('revertlm-sec-fair-'), 'cap');
  const config = readConfig(S.model);
  const shape = { config, blocks: config.nLayers - 1, headOnServer: true };
  // Each of the flood's frames, and the other device's training frame, is exactly one turn's worth of work.
  const turn = frameWork(shape, 1, 8, 0, true);
  assert.equal(frameWork(shape, 3, 8), turn);
  const server = await startServer([], { captureDir: cap, captureDurable: false, maxFrameWork: turn, maxQueuedFrames: 64, rate: { perSecond: 10_000, burst: 100 } });
  const flood = await RawClient.connect(server.url);
  const fs = await opened(flood, server, 'flood');
  const other = await RawClient.connect(server.url);
  const os = await opened(other, server, 'other');
  // The flood's frames reach the server first, the other device's training step right behind them.
  const N = 40;
  for (let i = 1; i <= N; i++) flood.send({ type: 'forward', session: fs, step: i, phase: 'eval' }, { hidden: wire([3, 8, 32]) });
  other.send({ type: 'labels', session: os, step: 1, ignoreIndex: -100 }, { labels: ids64([[1, 2, 3, 4, 5, 6, 7, 8]]) });
  other.send({ type: 'forward', session: os, step: 1, phase: 'train' }, { hidden: wire([1, 8, 32]) });
  assert.equal((await other.next())?.msg.type, 'gradient');
  for (let i = 0; i < N; i++) assert.equal((await flood.next())?.msg.type, 'logits');
  flood.ws.close();
  other.ws.close();
  await server.shutdown();
  // The server's own record of the order it served frames in.
  const served = readFileSync(join(cap, 'index.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { deviceId: string; type: string })
    .filter((r) => r.type === 'logits' || r.type === 'gradient');
  const before = served.findIndex((r) => r.deviceId === 'other');
  assert.ok(before >= 0 && before <= 2, `the other device's step was served after ${before} of the flood's ${N} frames`);
});

test('loopback: a device that queues more frames than --max-queued-frames is refused with a clear error; another device is served meanwhile', async () => {
  const server = await startServer([], { maxQueuedFrames: 4, rate: { perSecond: 10_000, burst: 100 } });
  const flood = await RawClient.connect(server.url);
  const fs = await opened(flood, server, 'flood');
  const other = await RawClient.connect(server.url);
  const os = await opened(other, server, 'other');
  for (let i = 1; i <= 20; i++) flood.send({ type: 'forward', session: fs, step: i, phase: 'eval' }, { hidden: wire([4, 16, 32]) });
  other.send({ type: 'forward', session: os, step: 1, phase: 'eval' }, { hidden: wire([1, 8, 32]) });
  const e = await nextError(flood);
  assert.equal(e?.code, 'overloaded');
  assert.match(e!.message, /^more than 4 frames are waiting to be served on this connection: send each frame after the server answered the one before$/);
  assert.ok((await flood.closed).code > 0);
  assert.equal((await other.next())?.msg.type, 'logits');
  other.ws.close();
});

test('loopback: a device that sends nothing still times out while its frames go through the scheduler', async () => {
  const server = await startServer([], { idleTimeoutMs: 200 });
  const c = await RawClient.connect(server.url);
  await opened(c, server, 'silent');
  const e = await nextError(c);
  assert.equal(e?.code, 'timeout');
  assert.match(e!.message, /no message from the peer within 200 ms/);
});

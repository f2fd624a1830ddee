import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import * as torch from '../../src/torch/index.js';
import {
  InProcessTransport,
  ProtocolError,
  TransportClosedError,
  TransportTimeoutError,
  WebSocketTransport,
  encodeFrame,
  listenWebSocket,
  type ServerSessionSummary,
  type Transport,
  type WebSocketListener,
} from '../../src/split/index.js';
import { batch, makeDevice, params, startServer } from './session_helpers.js';
import { maxAbsDiff, toyModel } from './toy.js';

const bye = (step = 0) => ({ type: 'bye' as const, session: '', step, reason: 'x' });

async function pairs(): Promise<{ name: string; make: () => Promise<[Transport, Transport]>; done: () => Promise<void> }[]> {
  let accept: ((t: Transport) => void) | null = null;
  const listener = await listenWebSocket({ port: 0 }, (t) => accept?.(t));
  return [
    { name: 'in-process', make: async () => InProcessTransport.pair(), done: async () => undefined },
    {
      name: 'websocket',
      make: async () => {
        const server = new Promise<Transport>((res) => (accept = res));
        const client = await WebSocketTransport.connect(`ws://127.0.0.1:${listener.port}`);
        return [client, await server];
      },
      done: () => listener.close(),
    },
  ];
}

test('transports: ordered delivery, seq stamping, byte counts, timeouts, close', async () => {
  for (const p of await pairs()) {
    const [a, b] = await p.make();
    const sent = await a.send(bye(1));
    assert.equal(sent.msg.seq, 0);
    await a.send(bye(2));
    const h = torch.randn([1, 2, 4]);
    await a.send({ type: 'gradient', session: '', step: 3 }, { grad: h });
    const f1 = await b.receive();
    const f2 = await b.receive();
    const f3 = await b.receive();
    assert.deepEqual([f1.msg.seq, f2.msg.seq, f3.msg.seq], [0, 1, 2], p.name);
    assert.deepEqual([f1.msg.step, f2.msg.step, f3.msg.step], [1, 2, 3]);
    assert.equal(a.stats.sent.bytes, b.stats.received.bytes);
    assert.equal(a.stats.sent.bytes, f1.byteLength + f2.byteLength + f3.byteLength);
    assert.equal(b.stats.perStep.get(3)!.received, f3.byteLength);
    await assert.rejects(b.receive({ timeoutMs: 20 }), TransportTimeoutError);
    // frames sent before close are still delivered, then receive reports the close
    await a.send(bye(4));
    await a.close('test over');
    assert.equal((await b.receive({ timeoutMs: 2000 })).msg.step, 4);
    await assert.rejects(b.receive({ timeoutMs: 2000 }), TransportClosedError);
    await assert.rejects(a.send(bye()), TransportClosedError);
    h.dispose();
    await b.close();
    await p.done();
  }
});

test('a frame out of sequence or undecodable is reported, the transport stays usable', async () => {
  const [a, b] = InProcessTransport.pair();
  const raw = a as unknown as { sendBytes(f: Buffer): Promise<void> };
  await raw.sendBytes(encodeFrame({ ...bye(), seq: 5 }));
  await assert.rejects(b.receive(), (e: unknown) => e instanceof ProtocolError && e.code === 'sequence');
  await raw.sendBytes(Buffer.from('nonsense'));
  await assert.rejects(b.receive(), (e: unknown) => e instanceof ProtocolError && e.code === 'bad_magic');
  // seq 2 is the third frame on the link
  await raw.sendBytes(encodeFrame({ ...bye(9), seq: 2 }));
  assert.equal((await b.receive()).msg.step, 9);
  await a.close();
});

test('websocket: text messages are refused, oversize frames are cut off by maxPayload', async () => {
  const accepted: Transport[] = [];
  const listener = await listenWebSocket({ port: 0, limits: { maxFrameBytes: 4096 } }, (t) => accepted.push(t));
  const url = `ws://127.0.0.1:${listener.port}`;
  const sock = new WebSocket(url);
  await new Promise((r) => sock.once('open', r));
  sock.send('hello as text');
  while (!accepted.length) await new Promise((r) => setTimeout(r, 5));
  await assert.rejects(accepted[0]!.receive({ timeoutMs: 2000 }), (e: unknown) => e instanceof ProtocolError && e.code === 'bad_magic');
  sock.close();

  const client = await WebSocketTransport.connect(url);
  const big = torch.randn([8, 64, 16]); // 32 KiB > 4 KiB
  await client.send({ type: 'gradient', session: '', step: 1 }, { grad: big });
  await assert.rejects(client.receive({ timeoutMs: 5000 }), TransportClosedError);
  await assert.rejects(accepted[1]!.receive({ timeoutMs: 5000 }), TransportClosedError);
  big.dispose();
  await listener.close();
});

test('split training over WebSocket equals in-process training, byte for byte', async () => {
  const runs = [];
  for (const over of ['in-process', 'websocket'] as const) {
    const m = toyModel(21, false);
    let served!: Promise<ServerSessionSummary>;
    let device: Transport;
    let listener: WebSocketListener | null = null;
    if (over === 'websocket') {
      listener = await listenWebSocket({ port: 0 }, (t) => (served = startServer(m, t)));
      device = await WebSocketTransport.connect(`ws://127.0.0.1:${listener.port}`);
    } else {
      const [dt, st] = InProcessTransport.pair();
      device = dt;
      served = startServer(m, st);
    }
    const session = makeDevice(m, device);
    await session.connect();
    const losses: number[] = [];
    const bytes: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const ids = batch(i);
      const s = await session.trainStep({ ids });
      ids.dispose();
      losses.push(s.loss);
      bytes.push(s.bytes);
    }
    await session.close();
    assert.equal((await served).closedBy, 'bye');
    await listener?.close();
    runs.push({ m, losses, bytes });
  }
  const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.bytes, b.bytes);
  assert.equal(maxAbsDiff(params(a.m), params(b.m)), 0);
  a.m.dispose();
  b.m.dispose();
});

test('a peer flooding unanswered frames gets the transport closed', async () => {
  const [a, b] = InProcessTransport.pair();
  for (let i = 0; i < 70; i++) await a.send(bye(i)).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(b.isClosed, true);
  let read = 0;
  await assert.rejects(async () => {
    for (;;) {
      await b.receive();
      read++;
    }
  }, TransportClosedError);
  assert.ok(read > 0 && read < 70, `${read} frames readable before the close`);
  assert.equal(a.isClosed, true, 'the flooding side sees the close');
});

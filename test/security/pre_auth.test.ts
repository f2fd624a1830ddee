// Before authentication (issue 16, items 1 and 2): a frame larger than a hello is refused at its
// header (the server buffered up to 576 MiB per unauthenticated connection: 3 of them took it from
// 250 MB to 2.28 GB); connections that never say hello have their own small pool and a short
// timeout, so an authenticated device is never locked out by them (64 idle connections held every
// slot for 30 s). Loopback only; each test takes a few seconds at most.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { wire } from '../split/cli_helpers.js';
import { RawClient, S, opened, startServer } from './helpers.js';

/** A WebSocket opened by hand, to send exactly the bytes a test wants (e.g. only a frame header). */
function rawUpgrade(port: number): Promise<{ socket: Socket; closed: Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    let upgraded = false;
    const closed = new Promise<Buffer>((res) => socket.on('close', () => res(got)));
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (!upgraded && got.includes('\r\n\r\n')) {
        upgraded = true;
        if (!/^HTTP\/1\.1 101/.test(got.toString('latin1'))) return reject(new Error(got.toString('latin1')));
        got = got.subarray(got.indexOf('\r\n\r\n') + 4);
        resolve({ socket, closed });
      }
    });
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
}

/** A masked binary frame header claiming `length` payload bytes (the payload itself is not sent). */
function frameHeader(length: number): Buffer {
  const h = Buffer.alloc(14);
  h[0] = 0x82; // FIN, binary
  h[1] = 0x80 | 127; // masked, 64-bit length
  h.writeBigUInt64BE(BigInt(length), 2);
  randomBytes(4).copy(h, 10);
  return h;
}

const closeCode = (bytes: Buffer) => (bytes.length >= 4 && (bytes[0]! & 0x0f) === 0x8 ? bytes.readUInt16BE(2) : null);

test('before hello, a frame that claims more than a hello is refused at its header (close 1009), whatever the frame limit', async () => {
  const logs: string[] = [];
  const server = await startServer(logs, { limits: { maxFrameBytes: 512 * 1024 * 1024 } });
  const t0 = Date.now();
  const conns = await Promise.all([1, 2, 3].map(() => rawUpgrade(server.port)));
  for (const c of conns) c.socket.write(frameHeader(400 * 1024 * 1024));
  const replies = await Promise.all(conns.map((c) => Promise.race([c.closed, new Promise<null>((r) => setTimeout(() => r(null), 3000))])));
  for (const r of replies) {
    assert.ok(r !== null, 'the server closes the connection without waiting for the payload');
    assert.equal(closeCode(r), 1009, 'message too big');
  }
  assert.ok(Date.now() - t0 < 3000);
  // After authentication the frame limit applies again: a 160 KiB forward is served.
  const c = await RawClient.connect(server.url);
  const session = await opened(c, server, 'big-after-hello');
  c.send({ type: 'forward', session, step: 1, phase: 'eval' }, { hidden: wire([32, 40, 32]) });
  const f = await c.next();
  assert.equal(f?.msg.type, 'logits');
  c.ws.close();
});

test('idle connections that never say hello cannot lock out a device; they are closed after the hello timeout', async () => {
  const logs: string[] = [];
  const server = await startServer(logs, { maxConnections: 4, maxUnauthenticated: 4, helloTimeoutMs: 800 });
  const idle = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(server.url)));
  const c = await RawClient.connect(server.url);
  const t0 = Date.now();
  await opened(c, server, 'not-locked-out');
  assert.ok(Date.now() - t0 < 1000, 'the device is welcomed at once');
  // Every idle connection is gone soon: evicted by newer ones, or timed out.
  const closed = await Promise.all(idle.map((x) => Promise.race([x.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))])));
  assert.ok(closed.every(Boolean), `${closed.filter((x) => !x).length} idle connections still open`);
  assert.ok(logs.some((l) => /too many unauthenticated connections/.test(l)));
  assert.ok(logs.some((l) => / refused .*code=timeout/.test(l)));
  c.ws.close();
});

test('authenticated devices beyond --max-connections are refused with busy; unauthenticated ones do not count', async () => {
  const server = await startServer([], { maxConnections: 2, maxUnauthenticated: 2, helloTimeoutMs: 2000 });
  const a = await RawClient.connect(server.url);
  const b = await RawClient.connect(server.url);
  await opened(a, server, 'dev-1');
  await opened(b, server, 'dev-2');
  const c = await RawClient.connect(server.url);
  c.hello(S.token, 'dev-3', server.fingerprint);
  const e = await c.next();
  assert.equal(e?.msg.type, 'error');
  assert.equal((e!.msg as { code: string }).code, 'busy');
  a.ws.close();
  b.ws.close();
});

// The network side of the server: an HTTP (or, with a certificate, HTTPS) server carrying ws
// WebSockets. Each connection becomes a WebSocketTransport with a per-connection rate limit
// counted on arrival (so a flood is refused before it fills the transport's queue). Until the
// server has authenticated it, a connection may send only messages the size of a hello: ws refuses
// a longer one at its frame header (close 1009), before buffering any of it.
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { resolveLimits, type FrameLimits } from '../protocol/limits.js';
import { WebSocketTransport } from '../transport/websocket.js';
import { TokenBucket, type RateLimit } from './rate_limit.js';

export interface ListenOptions {
  host: string;
  port: number;
  limits: Partial<FrameLimits>;
  rate: RateLimit;
  tls?: { cert: Buffer | string; key: Buffer | string } | null;
  /** Largest message a connection may send before it is authenticated. */
  preAuthMaxBytes: number;
}

export interface Accepted {
  transport: WebSocketTransport;
  remote: string;
  /** Set when the connection went over its rate limit (the handler ends it). */
  onRateExceeded(cb: () => void): void;
  /** The device authenticated: its messages may now be as large as the frame limit. */
  authenticated(): void;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** Stops accepting connections (open ones are left to the caller). */
  close(): Promise<void>;
  /** Drops every socket at once, as a crash would. */
  destroy(): void;
}

/**
 * WebSocket messages above the frame limit but within this margin still reach the decoder, which
 * answers them with an `error` (too_large); larger ones are cut off by ws itself (close code 1009,
 * "message too big") before they are buffered.
 */
export function wsMaxPayload(maxFrameBytes: number): number {
  return maxFrameBytes + Math.min(maxFrameBytes, 64 * 1024 * 1024);
}

/**
 * Changes the largest message ws accepts on an open connection. ws reads the limit from its
 * receiver for every frame header; it has no public setter, so this reaches the field and fails
 * loudly if a ws version lays it out differently (rather than silently keeping either limit).
 */
export function setMaxPayload(socket: WebSocket, bytes: number): void {
  const receiver = (socket as unknown as { _receiver?: { _maxPayload?: unknown } })._receiver;
  if (!receiver || typeof receiver._maxPayload !== 'number') throw new Error('ws internals changed: cannot set the per-connection message limit');
  receiver._maxPayload = bytes;
}

export function listen(o: ListenOptions, onConnection: (a: Accepted) => void, onError: (what: string, e: Error) => void): Promise<Listener> {
  const limits = resolveLimits(o.limits);
  const http: Server = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }) : createHttpServer();
  http.on('request', (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('revertlm split server: connect with a WebSocket (revertlm device --server ws://…)\n');
  });
  const oneLine = (e: Error) => Object.assign(new Error(e.message.replace(/\s+/g, ' ').trim()), { stack: e.stack });
  http.on('clientError', (e, socket) => {
    // With TLS, a failed handshake is reported once, as tlsClientError.
    if (!o.tls) onError('client error', oneLine(e));
    socket.destroy();
  });
  http.on('tlsClientError', (e) => onError('TLS handshake failed', oneLine(e)));
  const sockets = new Set<import('node:net').Socket>();
  http.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ server: http, maxPayload: Math.min(o.preAuthMaxBytes, wsMaxPayload(limits.maxFrameBytes)), perMessageDeflate: false });
  let listening = false;
  // Before listening, ws only repeats the HTTP server's own error (reported by the caller).
  wss.on('error', (e) => listening && onError('websocket server error', e));
  wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    const bucket = new TokenBucket(o.rate);
    let exceeded: (() => void) | null = null;
    let over = false;
    // Registered before the transport's own listener: counts every message as it arrives.
    socket.on('message', () => {
      if (over || bucket.take()) return;
      over = true;
      exceeded?.();
    });
    const transport = new WebSocketTransport(socket, limits);
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    onConnection({ transport, remote, onRateExceeded: (cb) => (exceeded = cb), authenticated: () => setMaxPayload(socket, wsMaxPayload(limits.maxFrameBytes)) });
  });
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(o.port, o.host, () => {
      http.off('error', reject);
      listening = true;
      http.on('error', (e) => onError('server error', e));
      const addr = http.address() as AddressInfo;
      const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
      resolve({
        host: addr.address,
        port: addr.port,
        url: `${o.tls ? 'wss' : 'ws'}://${host}:${addr.port}`,
        close: () =>
          new Promise<void>((res) => {
            wss.close(() => http.close(() => res()));
            // Idle keep-alive sockets would hold http.close() open.
            http.closeIdleConnections?.();
          }),
        destroy() {
          for (const c of wss.clients) c.terminate();
          for (const s of sockets) s.destroy();
          wss.close();
          http.close();
        },
      });
    });
  });
}

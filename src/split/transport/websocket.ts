// The transport over WebSocket (ws): one binary WebSocket message per frame, maxPayload set from
// the frame limits so an oversized message is refused by ws before it is buffered.
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { ProtocolError } from '../protocol/errors.js';
import { resolveLimits, type FrameLimits } from '../protocol/limits.js';
import { FramedTransport, TransportClosedError } from './transport.js';

export class WebSocketTransport extends FramedTransport {
  #closedP: Promise<void>;

  constructor(readonly socket: WebSocket, limits?: Partial<FrameLimits>) {
    super(limits);
    this.#closedP = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.markClosed(`websocket closed ${code}${reason.length ? `: ${reason.toString('utf8')}` : ''}`);
        resolve();
      });
    });
    socket.on('error', (e) => this.markClosed(`websocket error: ${e.message}`));
    socket.on('message', (data, isBinary) => {
      if (!isBinary) {
        this.deliverError(new ProtocolError('bad_magic', 'got a text WebSocket message; frames are binary'));
        return;
      }
      this.deliver(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
    });
  }

  /** Connects to a server (ws:// or wss:// URL). */
  static connect(url: string, o: { limits?: Partial<FrameLimits>; timeoutMs?: number; headers?: Record<string, string> } = {}): Promise<WebSocketTransport> {
    const limits = resolveLimits(o.limits);
    const socket = new WebSocket(url, { maxPayload: limits.maxFrameBytes, perMessageDeflate: false, handshakeTimeout: o.timeoutMs ?? 30_000, headers: o.headers });
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(new TransportClosedError(`cannot connect to ${url}: ${e.message}`));
      socket.once('error', onError);
      socket.once('open', () => {
        socket.off('error', onError);
        resolve(new WebSocketTransport(socket, limits));
      });
    });
  }

  protected sendBytes(frame: Buffer): Promise<void> {
    if (this.socket.readyState !== WebSocket.OPEN) return Promise.reject(new TransportClosedError('websocket is not open'));
    return new Promise((resolve, reject) => {
      this.socket.send(frame, { binary: true }, (e) => (e ? reject(new TransportClosedError(`send failed: ${e.message}`)) : resolve()));
    });
  }

  protected async closeCarrier(reason: string): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    // Close reasons are limited to 123 bytes by the WebSocket spec.
    this.socket.close(1000, Buffer.from(reason).subarray(0, 120).toString('utf8').replace(/\uFFFD+$/, ''));
    const timer = setTimeout(() => this.socket.terminate(), 5000);
    await this.#closedP;
    clearTimeout(timer);
  }
}

export interface WebSocketListener {
  readonly port: number;
  readonly host: string;
  /** Stops accepting and closes every open connection. */
  close(): Promise<void>;
}

/** Accepts device connections; each becomes a WebSocketTransport handed to onTransport. */
export function listenWebSocket(
  o: { port?: number; host?: string; limits?: Partial<FrameLimits> },
  onTransport: (t: WebSocketTransport, req: IncomingMessage) => void,
): Promise<WebSocketListener> {
  const limits = resolveLimits(o.limits);
  const wss = new WebSocketServer({ port: o.port ?? 0, host: o.host ?? '127.0.0.1', maxPayload: limits.maxFrameBytes, perMessageDeflate: false });
  const open = new Set<WebSocketTransport>();
  wss.on('connection', (socket, req) => {
    const t = new WebSocketTransport(socket, limits);
    open.add(t);
    socket.on('close', () => open.delete(t));
    onTransport(t, req);
  });
  return new Promise((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => {
      wss.off('error', reject);
      const addr = wss.address() as AddressInfo;
      resolve({
        port: addr.port,
        host: addr.address,
        async close() {
          await Promise.all([...open].map((t) => t.close('server shutting down')));
          await new Promise<void>((res) => wss.close(() => res()));
        },
      });
    });
  });
}

// Opening the device's link to a server: ws:// or wss:// (with an extra trusted CA for a
// self-signed server certificate).
import WebSocket from 'ws';
import { resolveLimits, type FrameLimits } from '../protocol/limits.js';
import { TransportClosedError } from '../transport/transport.js';
import { WebSocketTransport } from '../transport/websocket.js';

export interface ConnectOptions {
  limits?: Partial<FrameLimits>;
  timeoutMs?: number;
  /** PEM certificate(s) to trust for wss:// besides the system CAs. */
  ca?: Buffer | string | null;
}

export function connectWebSocket(url: string, o: ConnectOptions = {}): Promise<WebSocketTransport> {
  const limits = resolveLimits(o.limits);
  let socket: WebSocket;
  try {
    socket = new WebSocket(url, {
      maxPayload: limits.maxFrameBytes, perMessageDeflate: false, handshakeTimeout: o.timeoutMs ?? 30_000,
      ...(o.ca ? { ca: o.ca } : {}),
    });
  } catch (e) {
    return Promise.reject(new TransportClosedError(`cannot connect to ${url}: ${(e as Error).message}`));
  }
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(new TransportClosedError(`cannot connect to ${url}: ${e.message}`));
    // Kept until open: ws may report more than one error for a failed handshake.
    socket.on('error', onError);
    socket.once('open', () => {
      socket.off('error', onError);
      resolve(new WebSocketTransport(socket, limits));
    });
  });
}

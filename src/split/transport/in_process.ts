// Two transports linked in memory. Frames are still encoded and decoded, so tests exercise the
// exact bytes (and byte counts) a network transport would carry.
import type { FrameLimits } from '../protocol/limits.js';
import { FramedTransport } from './transport.js';

export class InProcessTransport extends FramedTransport {
  #peer: InProcessTransport | null = null;

  /** A connected pair: [device side, server side]. */
  static pair(limits?: Partial<FrameLimits>): [InProcessTransport, InProcessTransport] {
    const a = new InProcessTransport(limits);
    const b = new InProcessTransport(limits);
    a.#peer = b;
    b.#peer = a;
    return [a, b];
  }

  protected async sendBytes(frame: Buffer): Promise<void> {
    const peer = this.#peer;
    // Delivered on a later tick, as a socket would.
    if (peer) setImmediate(() => peer.deliver(frame));
  }

  protected async closeCarrier(reason: string): Promise<void> {
    const peer = this.#peer;
    this.#peer = null;
    // After frames already in flight.
    if (peer) setImmediate(() => peer.markClosed(`peer: ${reason}`));
  }
}

// A Transport moves messages with tensors between the device and the server. Every implementation
// goes through encodeFrame/decodeFrame (FramedTransport below), so the byte counts are the real
// frame sizes and the training logic is the same line for line whatever carries the bytes.
import { RevertlmError } from '../../util/errors.js';
import { ProtocolError } from '../protocol/errors.js';
import { decodeFrame, encodeFrame, type AnyFrame, type TensorInputs } from '../protocol/frame.js';
import { resolveLimits, type FrameLimits } from '../protocol/limits.js';
import type { Message, MessageType, Outgoing } from '../protocol/messages.js';

export interface Traffic {
  frames: number;
  bytes: number;
}
export interface StepTraffic {
  sent: number;
  received: number;
}
export interface TransportStats {
  sent: Traffic;
  received: Traffic;
  /** Bytes per `step` header value, both directions. */
  perStep: Map<number, StepTraffic>;
  /** Bytes per message type, both directions. */
  perType: Map<MessageType, StepTraffic>;
}

export interface SentFrame {
  /** The message as sent (with its seq). */
  msg: Message;
  byteLength: number;
}

export interface ReceiveOptions {
  /** Reject with TransportTimeoutError after this long (default: wait forever). */
  timeoutMs?: number;
}

export interface Transport {
  readonly limits: FrameLimits;
  readonly stats: TransportStats;
  readonly isClosed: boolean;
  /** Stamps `seq`, encodes, sends; resolves once the bytes are handed over. */
  send(msg: Outgoing, tensors?: TensorInputs): Promise<SentFrame>;
  /**
   * The next frame from the peer, in order. Rejects with ProtocolError for a frame that failed to
   * decode (the transport stays open), TransportClosedError once closed and drained.
   */
  receive(o?: ReceiveOptions): Promise<AnyFrame>;
  close(reason?: string): Promise<void>;
}

export class TransportClosedError extends RevertlmError {}
export class TransportTimeoutError extends RevertlmError {}

/** Frames the peer may have in flight before it is considered to be flooding. */
const MAX_QUEUED = 64;

type Item = { frame: AnyFrame } | { error: Error };
interface Waiter {
  resolve(f: AnyFrame): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
}

/** Framing, sequencing, queueing and byte accounting shared by every transport. */
export abstract class FramedTransport implements Transport {
  readonly limits: FrameLimits;
  readonly stats: TransportStats = { sent: { frames: 0, bytes: 0 }, received: { frames: 0, bytes: 0 }, perStep: new Map(), perType: new Map() };
  #sendSeq = 0;
  #recvSeq = 0;
  #queue: Item[] = [];
  #waiters: Waiter[] = [];
  #closed: Error | null = null;

  constructor(limits?: Partial<FrameLimits>) {
    this.limits = resolveLimits(limits);
  }

  get isClosed(): boolean {
    return this.#closed !== null;
  }

  /** Hands one encoded frame to the carrier; resolves when it is written. */
  protected abstract sendBytes(frame: Buffer): Promise<void>;
  /** Closes the carrier. */
  protected abstract closeCarrier(reason: string): Promise<void>;

  async send(msg: Outgoing, tensors: TensorInputs = {}): Promise<SentFrame> {
    if (this.#closed) throw new TransportClosedError(`cannot send '${msg.type}': ${this.#closed.message}`);
    const full = { ...msg, seq: this.#sendSeq } as Message;
    const frame = encodeFrame(full, tensors, this.limits);
    this.#sendSeq++;
    await this.sendBytes(frame);
    this.#account('sent', full.type, full.step, frame.length);
    return { msg: full, byteLength: frame.length };
  }

  receive(o: ReceiveOptions = {}): Promise<AnyFrame> {
    const item = this.#queue.shift();
    if (item) return 'frame' in item ? Promise.resolve(item.frame) : Promise.reject(item.error);
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<AnyFrame>((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      if (o.timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          reject(new TransportTimeoutError(`no message from the peer within ${o.timeoutMs} ms`));
        }, o.timeoutMs);
      }
      this.#waiters.push(w);
    });
  }

  async close(reason = 'closed'): Promise<void> {
    if (this.#closed) return;
    this.markClosed(reason);
    await this.closeCarrier(reason);
  }

  /** Called by the carrier with each complete incoming frame. */
  protected deliver(bytes: Uint8Array): void {
    if (this.#closed) return;
    let item: Item;
    try {
      const frame = decodeFrame(bytes, this.limits);
      if (frame.msg.seq !== this.#recvSeq) {
        throw new ProtocolError('sequence', `expected frame #${this.#recvSeq}, got #${frame.msg.seq} ('${frame.msg.type}')`);
      }
      this.#account('received', frame.msg.type, frame.msg.step, bytes.length);
      item = { frame };
    } catch (e) {
      this.stats.received.frames++;
      this.stats.received.bytes += bytes.length;
      item = { error: e as Error };
    }
    this.#recvSeq++;
    this.#push(item);
    if (this.#queue.length > MAX_QUEUED) {
      void this.close(`peer sent more than ${MAX_QUEUED} unanswered frames`);
    }
  }

  /** Called by the carrier for an incoming message that cannot be a frame at all. */
  protected deliverError(e: ProtocolError): void {
    if (this.#closed) return;
    this.stats.received.frames++;
    this.#recvSeq++;
    this.#push({ error: e });
  }

  /** Called by the carrier (or close()) when the link is gone; queued frames stay readable. */
  protected markClosed(reason: string): void {
    if (this.#closed) return;
    this.#closed = new TransportClosedError(`transport closed (${reason})`);
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(this.#closed);
    }
  }

  #push(item: Item): void {
    const w = this.#waiters.shift();
    if (!w) {
      this.#queue.push(item);
      return;
    }
    clearTimeout(w.timer);
    if ('frame' in item) w.resolve(item.frame);
    else w.reject(item.error);
  }

  #account(dir: 'sent' | 'received', type: MessageType, step: number, bytes: number): void {
    this.stats[dir].frames++;
    this.stats[dir].bytes += bytes;
    for (const [map, key] of [[this.stats.perStep, step], [this.stats.perType, type]] as const) {
      const m = map as Map<typeof key, StepTraffic>;
      let e = m.get(key);
      if (!e) m.set(key, (e = { sent: 0, received: 0 }));
      e[dir] += bytes;
    }
  }
}

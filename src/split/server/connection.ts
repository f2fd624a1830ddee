// One device connection as the server sees it: a Transport wrapper that the ServerSession talks
// through. It lets the server read the hello before the session starts (to authenticate and bind
// the device's state) and hand it back, checks activation sizes against the model before the
// session touches them, tells the device's state about each training step, and can end the
// connection with an `error` message from outside the session (rate limit, shutdown). Once the
// device is authenticated its frames are read as they arrive, queued in the server's FrameScheduler
// and handed to the session in this device's turns.
import type { AnyFrame, TensorInputs } from '../protocol/frame.js';
import type { FrameLimits } from '../protocol/limits.js';
import type { Outgoing } from '../protocol/messages.js';
import { SessionError } from '../session/types.js';
import type { FrameScheduler } from './scheduler.js';
import { TransportClosedError, TransportTimeoutError, type ReceiveOptions, type SentFrame, type Transport, type TransportStats } from '../transport/transport.js';

export interface ShapeLimits {
  /** Width of the activations the server part takes (and returns, in the U-shape). */
  dModel: number;
  /** Longest sequence (with cached positions) the model handles. */
  maxPositions: number;
  /** Most tokens (batch × sequence) in one frame. */
  maxTokens: number;
  /** Most work (multiply-adds, see work.ts) the step of one frame may ask for. */
  maxWork: number;
  /** The work a frame asks for (work.ts frameCost): its own (scheduling) and its step's (the bound). */
  cost: (f: AnyFrame) => { frame: number; step: number } | null;
}

interface Waiter {
  resolve(f: AnyFrame): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
}

export class DeviceConnection implements Transport {
  readonly #inner: Transport;
  readonly #shape: ShapeLimits;
  readonly #replay: AnyFrame[] = [];
  #failure: { code: string; message: string } | null = null;
  #session = '';
  #scheduler: FrameScheduler<AnyFrame | Error> | null = null;
  #waiter: Waiter | null = null;
  /** Set once the session was handed the end of the link: later receives fail at once. */
  #ended: Error | null = null;
  /** The device id from its hello, once the server has read it. */
  deviceId: string | null = null;
  /** Called once the device is authenticated (lifts the carrier's pre-authentication size limit). */
  onAuthenticated: (() => void) | null = null;
  /** Called with every frame the session is about to handle (after the checks); may throw SessionError. */
  onFrame: ((f: AnyFrame) => void) | null = null;
  /** Resolves when the server is done with this connection (session over, state released). */
  readonly done: Promise<void>;
  #resolveDone!: () => void;

  constructor(inner: Transport, shape: ShapeLimits, readonly id: number, readonly remote: string) {
    this.#inner = inner;
    this.#shape = shape;
    this.done = new Promise((r) => (this.#resolveDone = r));
  }

  get limits(): FrameLimits {
    return this.#inner.limits;
  }
  get stats(): TransportStats {
    return this.#inner.stats;
  }
  get isClosed(): boolean {
    return this.#inner.isClosed;
  }
  /** Why the server ended the connection itself (rate limit, ...), if it did. */
  get failure(): { code: string; message: string } | null {
    return this.#failure;
  }
  /** The session id the server assigned (after welcome). */
  get session(): string {
    return this.#session;
  }

  async send(msg: Outgoing, tensors?: TensorInputs): Promise<SentFrame> {
    const sent = await this.#inner.send(msg, tensors);
    if (msg.type === 'welcome') this.#session = msg.session;
    return sent;
  }

  async receive(o?: ReceiveOptions): Promise<AnyFrame> {
    this.#throwIfFailed();
    if (this.#ended) throw this.#ended;
    let f = this.#replay.shift();
    if (!f && this.#scheduler) {
      // Checked on arrival (pump).
      f = await this.#scheduled(this.#scheduler, o);
      this.#throwIfFailed();
    } else if (!f) {
      f = await this.#inner.receive(o);
      // The frames of a connection the server ended (e.g. a flood) are not handled.
      this.#throwIfFailed();
      this.#check(f);
    }
    this.onFrame?.(f);
    return f;
  }

  /**
   * From now on the device's frames are read as they arrive, checked, and queued in `s` (a device
   * over its queue bound is refused); the session receives them in this device's turns.
   */
  schedule(s: FrameScheduler<AnyFrame | Error>): void {
    this.#scheduler = s;
    s.open(this.id, (item) => this.#deliver(item));
    void this.#pump(s);
  }

  async #pump(s: FrameScheduler<AnyFrame | Error>): Promise<void> {
    for (;;) {
      let item: AnyFrame | Error;
      let cost = 0;
      try {
        const f = await this.#inner.receive();
        cost = this.#check(f);
        item = f;
      } catch (e) {
        item = e as Error;
      }
      if (this.#failure) return;
      if (!s.push(this.id, item, cost)) {
        void this.fail('overloaded', `more than ${s.maxQueued} frames are waiting to be served on this connection: send each frame after the server answered the one before`);
        return;
      }
      // A frame arrived: the session's wait is no longer idle, whenever its turn comes.
      if (this.#waiter?.timer) {
        clearTimeout(this.#waiter.timer);
        this.#waiter.timer = undefined;
      }
      if (item instanceof TransportClosedError) return;
    }
  }

  #scheduled(s: FrameScheduler<AnyFrame | Error>, o?: ReceiveOptions): Promise<AnyFrame> {
    return new Promise<AnyFrame>((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      this.#waiter = w;
      if (o?.timeoutMs !== undefined && s.queued(this.id) === 0) {
        w.timer = setTimeout(() => {
          if (this.#waiter !== w) return;
          this.#waiter = null;
          s.hold(this.id);
          reject(new TransportTimeoutError(`no message from the peer within ${o.timeoutMs} ms`));
        }, o.timeoutMs);
      }
      s.ready(this.id);
    });
  }

  /** The scheduler's turn for this device: its next frame (or what ended the link) to the waiting session. */
  #deliver(item: AnyFrame | Error): void {
    const w = this.#waiter;
    this.#waiter = null;
    if (!w) return;
    clearTimeout(w.timer);
    if (item instanceof TransportClosedError) this.#ended = item;
    if (item instanceof Error) w.reject(item);
    else w.resolve(item);
  }

  #throwIfFailed(): void {
    const f = this.#failure;
    if (f) throw new TransportClosedError(`connection ended by the server (${f.code})`);
  }

  /** Puts a frame back to be received again (the hello the server read first). */
  unshift(f: AnyFrame): void {
    this.#replay.unshift(f);
  }

  close(reason?: string): Promise<void> {
    return this.#inner.close(reason);
  }

  /** Ends the connection from outside the session: an `error` message to the device, then close. */
  async fail(code: string, message: string): Promise<void> {
    if (this.#failure || this.#inner.isClosed) return;
    this.#failure = { code, message };
    this.#scheduler?.hold(this.id);
    const w = this.#waiter;
    this.#waiter = null;
    if (w) {
      clearTimeout(w.timer);
      w.reject(new TransportClosedError(`connection ended by the server (${code})`));
    }
    await this.#inner.send({ type: 'error', session: this.#session, step: 0, code, message: message.slice(0, 4000) }).catch(() => undefined);
    await this.#inner.close(code).catch(() => undefined);
  }

  authenticated(): void {
    this.onAuthenticated?.();
  }

  finish(): void {
    this.#scheduler?.close(this.id);
    this.#resolveDone();
  }

  /** Activation sizes and work against the model, before the session converts or runs anything; returns the frame's work. */
  #check(f: AnyFrame): number {
    const { dModel, maxPositions, maxTokens } = this.#shape;
    const t = f.tensors as Record<string, { shape: readonly number[] } | undefined>;
    const act = f.msg.type === 'forward' || f.msg.type === 'generate_step' ? t.hidden : f.msg.type === 'gradient' ? t.grad : undefined;
    if (!act) return 0;
    const [B, T, D] = act.shape as [number, number, number];
    const name = f.msg.type === 'gradient' ? 'grad' : 'hidden';
    if (B === 0 || T === 0) throw new SessionError('bad_request', `'${f.msg.type}' ${name} [${B}, ${T}, ${D}] is empty: it needs at least one sequence of one position`);
    if (D !== dModel) throw new SessionError('bad_request', `'${f.msg.type}' ${name} has width ${D}, the model's is ${dModel}`);
    const past = f.msg.type === 'generate_step' ? f.msg.positionOffset : 0;
    if (past + T > maxPositions) throw new SessionError('bad_request', `'${f.msg.type}' reaches position ${past + T}, the model handles ${maxPositions}`);
    if (B * T > maxTokens) throw new SessionError('bad_request', `'${f.msg.type}' carries ${B}×${T} = ${B * T} tokens, the server takes at most ${maxTokens} per frame`);
    const work = this.#shape.cost(f) ?? { frame: 0, step: 0 };
    if (work.step > this.#shape.maxWork) {
      throw new SessionError('bad_request', `'${f.msg.type}' of [${B}, ${T}] asks for ${work.step.toExponential(2)} multiply-adds, the server takes at most ${this.#shape.maxWork.toExponential(2)} per frame: send smaller batches`);
    }
    return work.frame;
  }
}

// The server side: runs blocks [k, L - m) (+ head and loss when m = 0) with its own trainable
// parameters (e.g. LoRA), returns the gradient of the activations it received, and optionally records
// everything that crosses the link (the honest-but-curious server's view) to a CaptureWriter.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { dispose, noGrad, tidy, type DType, type Tensor } from '../../torch/index.js';
import type { Optimizer } from '../../torch/optim/index.js';
import type { CaptureContext, CaptureWriter } from '../capture/writer.js';
import { FLOAT_WIRE_DTYPES, type FloatWireDType } from '../protocol/dtypes.js';
import { ProtocolError } from '../protocol/errors.js';
import { isFrame, type AnyFrame, type Frame } from '../protocol/frame.js';
import { PROTOCOL_VERSION, type Draft, type Hello } from '../protocol/messages.js';
import { tensorToWire, wireToTensor, type WireTensor } from '../protocol/wire.js';
import { TransportClosedError, TransportTimeoutError, type Transport } from '../transport/transport.js';
import { checkActivation, checkFinite, checkLabels } from './exchange.js';
import { causalLmLoss } from './loss.js';
import { sampleNext } from './sampling.js';
import { RemoteError, SessionError, type KVCache, type LossFn, type ServerModelLike } from './types.js';

export interface ServerSessionOptions {
  transport: Transport;
  part: ServerModelLike;
  /** The part ends with the final norm + head (its output is logits); false = U-shape. */
  headOnServer: boolean;
  /** U-shape: the number of tail blocks the device must run (checked when given). */
  tailBlocks?: number;
  /** Steps the server's trainable parameters; null = frozen server (gradients are still returned). */
  optimizer?: Optimizer | null;
  modelFingerprint: string;
  /** Decides whether a hello may open a session (see sharedTokenAuth). Default: everyone. */
  authorize?: (hello: Hello) => boolean | Promise<boolean>;
  wireDtypes?: readonly FloatWireDType[];
  capture?: CaptureWriter | null;
  loss?: LossFn;
  /** Saves the server's adapters for a `checkpoint` request; its return value is sent back as ack info. */
  saveCheckpoint?: (tag: string, who: { deviceId: string; session: string; step: number }) => void | string | Promise<void | string>;
  serverId?: string;
  /** A key the server issues to this device in its welcome (the device presents it from then on; see server/device_keys.ts). */
  deviceKey?: string | null;
  /** dtype the part computes in (received activations are converted to it). Default float32. */
  computeDtype?: DType;
  helloTimeoutMs?: number;
  /** Longest wait for the device's next message between steps (default: none). */
  idleTimeoutMs?: number;
  /** Longest wait for the U-shape gradient within a step (default 10 minutes). */
  stepTimeoutMs?: number;
  /** Generation caches a session may hold at once. */
  maxCaches?: number;
}

export interface ServerSessionSummary {
  deviceId: string | null;
  session: string | null;
  trainSteps: number;
  closedBy: 'bye' | 'peer_closed' | 'error';
  /** Set when closedBy is 'error': what was reported (to the device, or by it). */
  error?: { code: string; message: string; remote: boolean };
}

/** authorize() accepting exactly one shared token (compared in constant time). */
export function sharedTokenAuth(token: string): (hello: Hello) => boolean {
  const want = createHash('sha256').update(token).digest();
  return (hello) => timingSafeEqual(createHash('sha256').update(hello.authToken).digest(), want);
}

export class ServerSession {
  readonly #o: ServerSessionOptions & Required<Pick<ServerSessionOptions, 'wireDtypes' | 'loss' | 'computeDtype' | 'helloTimeoutMs' | 'stepTimeoutMs' | 'maxCaches' | 'serverId'>>;
  #session: string | null = null;
  #ctx: CaptureContext | null = null;
  #pendingLabels: { step: number; ignoreIndex: number; labels: WireTensor } | null = null;
  readonly #caches = new Map<string, KVCache>();
  #trainSteps = 0;
  /** The capture record of the device frame being handled: an error now refuses it. */
  #handling: number | null = null;

  constructor(o: ServerSessionOptions) {
    this.#o = {
      wireDtypes: FLOAT_WIRE_DTYPES, loss: causalLmLoss, computeDtype: 'float32', helloTimeoutMs: 30_000,
      stepTimeoutMs: 600_000, maxCaches: 4, serverId: 'revertlm', ...o,
    };
  }

  get session(): string | null {
    return this.#session;
  }

  /** Runs the session until bye, an error, or the link closing. Never throws; always closes the transport. */
  async serve(): Promise<ServerSessionSummary> {
    const o = this.#o;
    const summary = (closedBy: ServerSessionSummary['closedBy'], error?: ServerSessionSummary['error']): ServerSessionSummary => ({
      deviceId: this.#ctx?.deviceId ?? null, session: this.#session, trainSteps: this.#trainSteps, closedBy, ...(error ? { error } : {}),
    });
    try {
      const hello = await o.transport.receive({ timeoutMs: o.helloTimeoutMs });
      if (!isFrame(hello, 'hello')) throw new SessionError('unexpected_message', `the first message must be 'hello', got '${hello.msg.type}'`);
      await this.#hello(hello);
      for (;;) {
        const f = await o.transport.receive({ timeoutMs: o.idleTimeoutMs });
        this.#handling = this.#record('to_server', f);
        if (f.msg.session !== this.#session) throw new SessionError('bad_request', `message for session '${f.msg.session}' on session '${this.#session}'`);
        if (isFrame(f, 'bye')) return summary('bye');
        if (isFrame(f, 'error')) throw new RemoteError(f.msg.code, f.msg.message);
        await this.#dispatch(f);
        this.#handling = null;
      }
    } catch (e) {
      if (e instanceof TransportClosedError) return summary('peer_closed');
      if (e instanceof RemoteError) return summary('error', { code: e.code, message: e.remoteMessage, remote: true });
      const code = e instanceof ProtocolError || e instanceof SessionError ? e.code : e instanceof TransportTimeoutError ? 'timeout' : 'internal';
      const message = (e instanceof Error ? e.message : String(e)).slice(0, 4000);
      await this.#send({ type: 'error', step: 0, code, message }, {}, this.#handling ?? undefined).catch(() => undefined);
      return summary('error', { code, message, remote: false });
    } finally {
      for (const c of this.#caches.values()) c.dispose();
      this.#caches.clear();
      this.#pendingLabels = null;
      await o.transport.close('session over').catch(() => undefined);
    }
  }

  async #hello(f: Frame<'hello'>): Promise<void> {
    const o = this.#o;
    const h = f.msg;
    if (h.protocolVersion !== PROTOCOL_VERSION) throw new SessionError('unsupported_version', `device speaks protocol ${h.protocolVersion}, server ${PROTOCOL_VERSION}`);
    if (o.authorize && !(await o.authorize(h))) throw new SessionError('unauthorized', `device '${h.deviceId}' is not authorised`);
    if (h.modelFingerprint !== o.modelFingerprint) throw new SessionError('model_mismatch', 'the device runs a different base model than the server');
    if (h.splitPoint !== o.part.splitPoint) throw new SessionError('split_mismatch', `device splits at k=${h.splitPoint}, server part starts at ${o.part.splitPoint}`);
    if ((h.tail === null) !== o.headOnServer) {
      throw new SessionError('split_mismatch', o.headOnServer ? 'the server holds the head; the device must not run a tail' : 'the server has no head; the device must run the U-shape tail');
    }
    if (h.tail && o.tailBlocks !== undefined && h.tail.blocks !== o.tailBlocks) {
      throw new SessionError('split_mismatch', `device tail has ${h.tail.blocks} blocks, server expects ${o.tailBlocks}`);
    }
    if (!o.wireDtypes.includes(h.wireDtype)) throw new SessionError('dtype', `wire dtype ${h.wireDtype} not accepted (server accepts ${o.wireDtypes.join(', ')})`);
    this.#ctx = { deviceId: h.deviceId, splitPoint: h.splitPoint, tailBlocks: h.tail?.blocks ?? null, wireDtype: h.wireDtype };
    this.#record('to_server', f);
    this.#session = randomUUID();
    await this.#send({
      type: 'welcome', step: 0, serverId: o.serverId, protocolVersion: PROTOCOL_VERSION, wireDtype: h.wireDtype,
      headOnServer: o.headOnServer, maxFrameBytes: o.transport.limits.maxFrameBytes, ...(o.deviceKey ? { deviceKey: o.deviceKey } : {}),
    });
  }

  async #dispatch(f: AnyFrame): Promise<void> {
    switch (f.msg.type) {
      case 'labels': {
        const l = f as Frame<'labels'>;
        if (!this.#o.headOnServer) throw new SessionError('unexpected_message', 'labels sent to a U-shape server (the loss is on the device)');
        this.#pendingLabels = { step: l.msg.step, ignoreIndex: l.msg.ignoreIndex, labels: l.tensors.labels };
        return;
      }
      case 'forward':
        return this.#forward(f as Frame<'forward'>);
      case 'generate_step':
        return this.#generateStep(f as Frame<'generate_step'>);
      case 'cache_release': {
        const m = (f as Frame<'cache_release'>).msg;
        const c = this.#caches.get(m.cacheId);
        c?.dispose();
        this.#caches.delete(m.cacheId);
        await this.#send({ type: 'ack', step: m.step, of: 'cache_release', ofSeq: m.seq, ...(c ? {} : { info: 'no such cache' }) });
        return;
      }
      case 'checkpoint': {
        const m = (f as Frame<'checkpoint'>).msg;
        if (!this.#o.saveCheckpoint) throw new SessionError('unsupported', 'this server does not save checkpoints');
        const info = await this.#o.saveCheckpoint(m.tag, { deviceId: this.#ctx!.deviceId, session: this.#session!, step: m.step });
        await this.#send({ type: 'ack', step: m.step, of: 'checkpoint', ofSeq: m.seq, ...(typeof info === 'string' ? { info: info.slice(0, 1024) } : {}) });
        return;
      }
      default:
        throw new SessionError('unexpected_message', `a device does not send '${f.msg.type}'`);
    }
  }

  async #forward(f: Frame<'forward'>): Promise<void> {
    const o = this.#o;
    const { step, phase } = f.msg;
    const wire = this.#ctx!.wireDtype;
    const hw = f.tensors.hidden;
    checkActivation('hidden', hw, wire);
    const labelsMsg = this.#pendingLabels?.step === step ? this.#pendingLabels : null;
    this.#pendingLabels = null;
    if (phase === 'train' && o.headOnServer && !labelsMsg) throw new SessionError('bad_request', `training step ${step} has no labels (send 'labels' before 'forward')`);
    const owned: Tensor[] = [];
    const own = <T extends Tensor | null>(t: T): T => (t && owned.push(t), t);
    try {
      const train = phase === 'train';
      o.part.train?.(train);
      const x = own(wireToTensor(hw, o.computeDtype));
      checkFinite('hidden', x);
      const mask = f.tensors.attention_mask ? own(wireToTensor(f.tensors.attention_mask)) : undefined;
      const labels = labelsMsg ? own(this.#labels(labelsMsg.labels, hw.shape)) : null;
      if (!train) {
        const out = noGrad(() => tidy(() => {
          const output = o.part.forward(x, { attentionMask: mask }).output;
          if (o.headOnServer && labels) checkLabels(labels, output.size(-1), labelsMsg!.ignoreIndex);
          const loss = o.headOnServer && labels ? o.loss(output, labels, labelsMsg!.ignoreIndex).item() : null;
          return { out: tensorToWire(output, wire), loss };
        }));
        if (o.headOnServer) await this.#send({ type: 'logits', step, ...(out.loss !== null && Number.isFinite(out.loss) ? { loss: out.loss } : {}) }, { logits: out.out });
        else await this.#send({ type: 'output', step, phase: 'eval' }, { hidden: out.out });
        return;
      }
      x.requiresGrad_(true);
      const output = own(o.part.forward(x, { attentionMask: mask }).output);
      let loss: number | undefined;
      if (o.headOnServer) {
        checkLabels(labels!, output.size(-1), labelsMsg!.ignoreIndex);
        const l = own(o.loss(output, labels!, labelsMsg!.ignoreIndex));
        loss = l.item();
        l.backward();
      } else {
        await this.#send({ type: 'output', step, phase: 'train' }, { hidden: tensorToWire(output, wire) });
        const g = await o.transport.receive({ timeoutMs: o.stepTimeoutMs });
        this.#handling = this.#record('to_server', g);
        if (isFrame(g, 'error')) throw new RemoteError(g.msg.code, g.msg.message);
        if (!isFrame(g, 'gradient') || g.msg.step !== step) throw new SessionError('unexpected_message', `expected the gradient of step ${step}, got '${g.msg.type}' (step ${g.msg.step})`);
        checkActivation('output gradient', g.tensors.grad, wire, output.shape);
        const gOut = own(wireToTensor(g.tensors.grad, output.dtype));
        checkFinite('output gradient', gOut);
        loss = g.msg.loss;
        output.backward(gOut);
      }
      const gx = own(x.grad);
      if (!gx) throw new SessionError('internal', 'the server part produced no gradient for its input');
      const gw = tensorToWire(gx, wire);
      // Step before replying, so a head-on-server step never interleaves with another session's.
      if (o.optimizer) {
        o.optimizer.step();
        o.optimizer.zeroGrad();
      } else o.part.zeroGrad?.();
      this.#trainSteps++;
      await this.#send({ type: 'gradient', step, ...(loss !== undefined && Number.isFinite(loss) ? { loss } : {}) }, { grad: gw });
    } finally {
      dispose(owned);
    }
  }

  async #generateStep(f: Frame<'generate_step'>): Promise<void> {
    const o = this.#o;
    const m = f.msg;
    const wire = this.#ctx!.wireDtype;
    checkActivation('hidden', f.tensors.hidden, wire);
    if (!o.part.newCache) throw new SessionError('unsupported', 'this server part has no KV cache');
    let cache = this.#caches.get(m.cacheId);
    if (m.reset) {
      cache?.dispose();
      this.#caches.delete(m.cacheId);
      if (this.#caches.size >= o.maxCaches) throw new SessionError('bad_request', `at most ${o.maxCaches} generation caches per session; release one first`);
      cache = o.part.newCache();
      this.#caches.set(m.cacheId, cache);
    }
    if (!cache) throw new SessionError('bad_request', `no generation cache '${m.cacheId}' (start with reset)`);
    if (cache.length !== m.positionOffset) throw new SessionError('bad_request', `cache '${m.cacheId}' holds ${cache.length} positions, step says ${m.positionOffset}`);
    const c = cache;
    o.part.train?.(false);
    const reply = noGrad(() =>
      tidy(() => {
        const x = wireToTensor(f.tensors.hidden, o.computeDtype);
        checkFinite('hidden', x);
        const mask = f.tensors.attention_mask ? wireToTensor(f.tensors.attention_mask) : undefined;
        const out = o.part.forward(x, { attentionMask: mask, cache: c, positionOffset: m.positionOffset }).output;
        if (!o.headOnServer) return { hidden: tensorToWire(out, wire) };
        return { token_ids: tensorToWire(sampleNext(out.select(1, out.size(1) - 1), m.sampling), 'int64') };
      }),
    );
    if (reply.token_ids) await this.#send({ type: 'next_token', step: m.step, cacheId: m.cacheId, positionOffset: c.length }, { token_ids: reply.token_ids });
    else await this.#send({ type: 'output', step: m.step, phase: 'generate' }, { hidden: reply.hidden! });
  }

  /** Labels [B, T] matching the activations, every value a class index or ignoreIndex. */
  #labels(w: WireTensor, hiddenShape: readonly number[]): Tensor {
    if (w.shape[0] !== hiddenShape[0] || w.shape[1] !== hiddenShape[1]) {
      throw new SessionError('bad_request', `labels [${w.shape.join(', ')}] do not match activations [${hiddenShape.join(', ')}]`);
    }
    return wireToTensor(w);
  }

  /** Sends and records; `refuses` marks an error as the refusal of that recorded device frame. */
  async #send(m: Draft, tensors: Record<string, WireTensor> = {}, refuses?: number): Promise<void> {
    const sent = await this.#o.transport.send({ ...m, session: this.#session ?? '' } as never, tensors);
    if (this.#ctx && this.#o.capture) this.#o.capture.record(this.#ctx, 'to_device', sent.msg, tensors, { refuses });
  }

  /** Records a device frame as it arrives; returns its record number (null without a capture). */
  #record(direction: 'to_server', f: AnyFrame): number | null {
    if (!this.#ctx || !this.#o.capture) return null;
    return this.#o.capture.record(this.#ctx, direction, f.msg, f.tensors as Record<string, WireTensor>)?.record ?? null;
  }
}

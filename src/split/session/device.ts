// The device side of split learning: runs embeddings + blocks [0, k) on private text, sends H_k,
// and applies the gradient that comes back. In the U-shape it also runs the tail and the loss,
// so labels never leave the device.
import { cat, dispose, noGrad, ones, tidy, type Tensor } from '../../torch/index.js';
import type { Optimizer } from '../../torch/optim/index.js';
import type { FloatWireDType } from '../protocol/dtypes.js';
import { PROTOCOL_VERSION, type Draft, type Outgoing, type Welcome } from '../protocol/messages.js';
import { tensorToWire, wireToTensor, type WireTensor } from '../protocol/wire.js';
import type { Transport } from '../transport/transport.js';
import { checkActivation, expectFrame } from './exchange.js';
import { causalLmLoss } from './loss.js';
import type { Sampling } from './sampling.js';
import { sampleNext } from './sampling.js';
import { SessionError, type DefenseHook, type DeviceModelLike, type ExtraLossHook, type LossFn, type TailModelLike } from './types.js';

export interface DeviceSessionOptions {
  transport: Transport;
  part: DeviceModelLike;
  /** U-shape: the device also runs the last `blocks` blocks + head (model), and the loss. */
  tail?: { model: TailModelLike; blocks: number } | null;
  /** Steps the device's trainable parameters (part and tail); null = the device part stays frozen. */
  optimizer?: Optimizer | null;
  wireDtype?: FloatWireDType;
  /** Applied to H_k before every send (training, eval and generation). */
  defense?: DefenseHook | null;
  /**
   * A device-side term of the training objective (e.g. NoPeek's λ·dCor(E, H_k)): with an optimizer,
   * the device backpropagates the server's gradient into H_k plus the gradient of this scalar.
   */
  extraLoss?: ExtraLossHook | null;
  deviceId: string;
  authToken?: string;
  /** This device's own secret, sent in hello (see src/split/server/device_keys.ts). */
  deviceKey?: string;
  modelFingerprint: string;
  /** How long to wait for each reply (default 10 minutes). */
  timeoutMs?: number;
  /** U-shape loss (default: next-token cross-entropy). */
  loss?: LossFn;
  ignoreIndex?: number;
  /** Step number of the first exchange (default 1). A device resuming after step s passes s + 1. */
  firstStep?: number;
}

export interface TrainBatch {
  /** [B, T] int64. */
  ids: Tensor;
  /** [B, T], 1 = real token. */
  attentionMask?: Tensor;
  /** [B, T] aligned with ids (shifted by the loss). Default: ids, with padding set to ignoreIndex. */
  labels?: Tensor;
}

export interface StepResult {
  step: number;
  /** The step's loss (computed by the server, or by the device in the U-shape). */
  loss: number;
  /** Frame bytes of this step, device → server and back. */
  bytes: { sent: number; received: number };
  /** The value of the device's extra loss term, when one is set (and an optimizer steps). */
  extraLoss?: number;
}

export interface SplitGenerateOptions {
  maxNewTokens: number;
  temperature?: number;
  topK?: number;
  /** Stop a sequence after it produces this token. */
  eosTokenId?: number | null;
  attentionMask?: Tensor;
}

export class DeviceSession {
  readonly #o: Required<Omit<DeviceSessionOptions, 'tail' | 'optimizer' | 'defense' | 'extraLoss' | 'authToken' | 'deviceKey'>> & Pick<DeviceSessionOptions, 'tail' | 'optimizer' | 'defense' | 'extraLoss' | 'deviceKey'> & { authToken: string };
  #session: string | null = null;
  #welcome: Welcome | null = null;
  /** Step 0 is the handshake; each training/eval exchange and each generated token uses the next one. */
  #step = 1;
  #generations = 0;
  #broken: Error | null = null;

  constructor(o: DeviceSessionOptions) {
    this.#o = {
      wireDtype: 'float32', timeoutMs: 600_000, loss: causalLmLoss, ignoreIndex: -100, authToken: '',
      tail: null, optimizer: null, defense: null, extraLoss: null, firstStep: 1, ...o,
    };
    if (!Number.isSafeInteger(this.#o.firstStep) || this.#o.firstStep < 1) throw new RangeError(`firstStep must be an integer >= 1, got ${this.#o.firstStep}`);
    this.#step = this.#o.firstStep;
  }

  get transport(): Transport {
    return this.#o.transport;
  }
  /** Session id assigned by the server (after connect). */
  get session(): string | null {
    return this.#session;
  }
  get welcome(): Welcome | null {
    return this.#welcome;
  }
  get headOnServer(): boolean {
    return !this.#o.tail;
  }
  /** The last step number used (training, eval and each generated token use one; counts from firstStep - 1). */
  get steps(): number {
    return this.#step - 1;
  }

  /** hello → welcome. */
  async connect(): Promise<Welcome> {
    const o = this.#o;
    await o.transport.send({
      type: 'hello', session: '', step: 0, deviceId: o.deviceId, authToken: o.authToken, ...(o.deviceKey ? { deviceKey: o.deviceKey } : {}), modelFingerprint: o.modelFingerprint,
      splitPoint: o.part.splitPoint, tail: o.tail ? { blocks: o.tail.blocks } : null, wireDtype: o.wireDtype, protocolVersion: PROTOCOL_VERSION,
    });
    const f = await this.#guard(expectFrame(o.transport, 'welcome', 0, o.timeoutMs));
    const w = f.msg;
    if (w.wireDtype !== o.wireDtype) throw this.#fail(new SessionError('dtype', `server answered with wire dtype ${w.wireDtype}, asked for ${o.wireDtype}`));
    if (w.headOnServer !== this.headOnServer) {
      throw this.#fail(new SessionError('split_mismatch', w.headOnServer ? 'server holds the head but this device runs a U-shape tail' : 'server expects a U-shape tail on the device'));
    }
    this.#session = w.session;
    this.#welcome = w;
    return w;
  }

  /** One training step: forward on device, server forward/backward, backward and optimiser step on device. */
  async trainStep(b: TrainBatch): Promise<StepResult> {
    const o = this.#ready();
    const step = this.#step++;
    const owned: Tensor[] = [];
    const own = <T extends Tensor | null | undefined>(t: T): T => (t && owned.push(t), t);
    try {
      o.part.train?.(true);
      o.tail?.model.train?.(true);
      const h = own(o.part.forward(b.ids, { attentionMask: b.attentionMask }).hidden);
      const sent = o.defense ? o.defense(h) : h;
      if (sent !== h) own(sent);
      const labels = own(this.#labels(b));
      const mask = this.#maskWire(b.attentionMask);
      if (this.headOnServer) await this.#send({ type: 'labels', step, ignoreIndex: o.ignoreIndex }, { labels: tensorToWire(labels, 'int64') });
      await this.#send({ type: 'forward', step, phase: 'train' }, { hidden: tensorToWire(sent, o.wireDtype), attention_mask: mask });

      let loss = NaN;
      if (o.tail) {
        const out = await this.#guard(expectFrame(o.transport, 'output', step, o.timeoutMs));
        checkActivation('server output', out.tensors.hidden, o.wireDtype, [b.ids.size(0), b.ids.size(1), out.tensors.hidden.shape[2]!]);
        const x = own(wireToTensor(out.tensors.hidden, sent.dtype)).requiresGrad_(true);
        const logits = own(o.tail.model.forward(x, { attentionMask: b.attentionMask }).output);
        const l = own(o.loss(logits, labels, o.ignoreIndex));
        loss = l.item();
        l.backward();
        const gOut = own(x.grad);
        if (!gOut) throw new SessionError('internal', 'the tail produced no gradient for the server output');
        // The loss stays on the device: the server needs only the gradient.
        await this.#send({ type: 'gradient', step }, { grad: tensorToWire(gOut, o.wireDtype) });
      }
      const g = await this.#guard(expectFrame(o.transport, 'gradient', step, o.timeoutMs));
      if (this.headOnServer) loss = g.msg.loss ?? NaN;
      checkActivation('gradient', g.tensors.grad, o.wireDtype, sent.shape);
      let extraLoss: number | undefined;
      if (o.optimizer) {
        const grad = own(wireToTensor(g.tensors.grad, sent.dtype));
        // Straight-through when the defense is not differentiable.
        const root = sent.requiresGrad ? sent : h.requiresGrad ? h : null;
        const extra = o.extraLoss ? own(o.extraLoss({ ids: b.ids, attentionMask: b.attentionMask, hidden: h })) : null;
        if (extra) {
          extraLoss = extra.item();
          // One backward pass: d/dθ (<root, grad> + extra) = Jᵀ·grad + d extra/dθ.
          const total = root ? own(tidy(() => root.mul(grad).sum().add(extra))) : extra;
          if (total.requiresGrad) total.backward();
        } else root?.backward(grad);
        o.optimizer.step();
        o.optimizer.zeroGrad();
      } else {
        o.part.zeroGrad?.();
        o.tail?.model.zeroGrad?.();
      }
      const bytes = o.transport.stats.perStep.get(step) ?? { sent: 0, received: 0 };
      return { step, loss, bytes: { ...bytes }, ...(extraLoss !== undefined ? { extraLoss } : {}) };
    } catch (e) {
      throw this.#fail(e);
    } finally {
      dispose(owned);
    }
  }

  /** Forward without training; returns logits [B, T, V] (float32, the caller disposes) and the loss when labels are given. */
  async evaluate(b: TrainBatch & { withLoss?: boolean }): Promise<{ logits: Tensor; loss: number | null; step: number }> {
    const o = this.#ready();
    const step = this.#step++;
    const owned: Tensor[] = [];
    try {
      o.part.train?.(false);
      o.tail?.model.train?.(false);
      const sent = noGrad(() =>
        tidy(() => {
          const h = o.part.forward(b.ids, { attentionMask: b.attentionMask }).hidden;
          return o.defense ? o.defense(h) : h;
        }),
      );
      owned.push(sent);
      const wantLoss = b.withLoss ?? b.labels !== undefined;
      const labels = wantLoss ? this.#labels(b) : null;
      if (labels) owned.push(labels);
      if (labels && this.headOnServer) await this.#send({ type: 'labels', step, ignoreIndex: o.ignoreIndex }, { labels: tensorToWire(labels, 'int64') });
      await this.#send({ type: 'forward', step, phase: 'eval' }, { hidden: tensorToWire(sent, o.wireDtype), attention_mask: this.#maskWire(b.attentionMask) });
      if (!o.tail) {
        const f = await this.#guard(expectFrame(o.transport, 'logits', step, o.timeoutMs));
        checkActivation('logits', f.tensors.logits, o.wireDtype);
        return { logits: wireToTensor(f.tensors.logits, 'float32'), loss: f.msg.loss ?? null, step };
      }
      const f = await this.#guard(expectFrame(o.transport, 'output', step, o.timeoutMs));
      checkActivation('server output', f.tensors.hidden, o.wireDtype);
      const tail = o.tail;
      return noGrad(() =>
        tidy(() => {
          const logits = tail.model.forward(wireToTensor(f.tensors.hidden, sent.dtype), { attentionMask: b.attentionMask }).output.float();
          return { logits, loss: labels ? o.loss(logits, labels, o.ignoreIndex).item() : null, step };
        }),
      );
    } catch (e) {
      throw this.#fail(e);
    } finally {
      dispose(owned);
    }
  }

  /**
   * Split generation: both sides keep KV caches (the server's under a session-scoped cache id) and
   * each new token costs one generate_step round trip. Prompts in a batch must have equal length.
   * Returns the new token ids of each sequence.
   */
  async generate(ids: Tensor, g: SplitGenerateOptions): Promise<number[][]> {
    const o = this.#ready();
    if (!o.part.newCache) throw new SessionError('unsupported', 'the device part has no KV cache (newCache)');
    if (o.tail && !o.tail.model.newCache) throw new SessionError('unsupported', 'the device tail has no KV cache (newCache)');
    const sampling: Sampling = { temperature: g.temperature ?? 0, topK: g.topK ?? 0 };
    const cacheId = `gen-${this.#generations++}`;
    const B = ids.size(0);
    const devCache = o.part.newCache();
    const tailCache = o.tail?.model.newCache?.();
    const out: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    let input = ids;
    let mask = g.attentionMask ? noGrad(() => g.attentionMask!.ne(0)) : ones([B, ids.size(1)], { dtype: 'bool' });
    let offset = 0;
    let started = false;
    try {
      o.part.train?.(false);
      o.tail?.model.train?.(false);
      for (let i = 0; i < g.maxNewTokens && !done.every(Boolean); i++) {
        const step = this.#step++;
        const T = input.size(1);
        const sentWire = noGrad(() =>
          tidy(() => {
            const h = o.part.forward(input, { attentionMask: mask, cache: devCache }).hidden;
            return tensorToWire(o.defense ? o.defense(h) : h, o.wireDtype);
          }),
        );
        await this.#send(
          { type: 'generate_step', step, cacheId, positionOffset: offset, reset: i === 0, sampling },
          { hidden: sentWire, attention_mask: tensorToWire(mask) },
        );
        started = true;
        let next: Tensor;
        if (!o.tail) {
          const f = await this.#guard(expectFrame(o.transport, 'next_token', step, o.timeoutMs));
          if (f.msg.cacheId !== cacheId || f.msg.positionOffset !== offset + T || f.tensors.token_ids.shape[0] !== B) {
            throw new SessionError('unexpected_message', `next_token for cache ${f.msg.cacheId} at ${f.msg.positionOffset}, expected ${cacheId} at ${offset + T} with ${B} tokens`);
          }
          next = wireToTensor(f.tensors.token_ids);
        } else {
          const f = await this.#guard(expectFrame(o.transport, 'output', step, o.timeoutMs));
          checkActivation('server output', f.tensors.hidden, o.wireDtype);
          const tail = o.tail;
          next = noGrad(() =>
            tidy(() => {
              const logits = tail.model.forward(wireToTensor(f.tensors.hidden, 'float32'), { attentionMask: mask, cache: tailCache, positionOffset: offset }).output;
              return sampleNext(logits.select(1, T - 1), sampling);
            }),
          );
        }
        offset += T;
        const tokens = next.toNumbers();
        tokens.forEach((tok, r) => {
          if (done[r]) return;
          out[r]!.push(tok);
          if (g.eosTokenId !== undefined && g.eosTokenId !== null && tok === g.eosTokenId) done[r] = true;
        });
        if (input !== ids) input.dispose();
        input = next.reshape([B, 1]);
        next.dispose();
        const m0 = mask;
        const grown = tidy(() => cat([m0, ones([B, 1], { dtype: 'bool' })], 1));
        mask.dispose();
        mask = grown;
      }
      if (started) {
        await this.#send({ type: 'cache_release', step: this.#step - 1, cacheId });
        await this.#guard(expectFrame(o.transport, 'ack', this.#step - 1, o.timeoutMs));
      }
      return out;
    } catch (e) {
      throw this.#fail(e);
    } finally {
      if (input !== ids) input.dispose();
      mask.dispose();
      devCache.dispose();
      tailCache?.dispose();
    }
  }

  /** Asks the server to save its adapters under `tag`; resolves when it acknowledges. */
  async checkpoint(tag: string): Promise<string | undefined> {
    const o = this.#ready();
    const step = this.#step - 1;
    await this.#send({ type: 'checkpoint', step, tag });
    const f = await this.#guard(expectFrame(o.transport, 'ack', step, o.timeoutMs));
    return f.msg.info;
  }

  /** Sends bye (if the session is healthy) and closes the transport. */
  async close(reason = 'done'): Promise<void> {
    const t = this.#o.transport;
    if (!t.isClosed && !this.#broken && this.#session !== null) {
      await t.send({ type: 'bye', session: this.#session, step: 0, reason }).catch(() => undefined);
    }
    await t.close(reason);
  }

  #ready() {
    if (this.#broken) throw new SessionError('bad_request', `the session already failed (${this.#broken.message})`);
    if (this.#session === null) throw new SessionError('bad_request', 'call connect() first');
    return this.#o;
  }

  #send(m: Draft, tensors?: Record<string, WireTensor | undefined>) {
    return this.#o.transport.send({ ...m, session: this.#session! } as Outgoing, tensors);
  }

  #labels(b: TrainBatch): Tensor {
    const o = this.#o;
    return noGrad(() =>
      tidy(() => {
        if (b.labels) return b.labels.long();
        const ids = b.ids.long();
        return b.attentionMask ? ids.maskedFill(b.attentionMask.eq(0), o.ignoreIndex) : ids.clone();
      }),
    );
  }

  #maskWire(m: Tensor | undefined): WireTensor | undefined {
    return m ? noGrad(() => tidy(() => tensorToWire(m.ne(0)))) : undefined;
  }

  async #guard<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      throw this.#fail(e);
    }
  }

  #fail(e: unknown): Error {
    const err = e instanceof Error ? e : new Error(String(e));
    this.#broken ??= err;
    return err;
  }
}

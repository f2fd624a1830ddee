// The device process (`revertlm device`): loads only the device part (and the U-shape tail),
// trains its own LoRA adapters (or, with trainable 'full', every parameter of its parts) in split
// fine-tuning with the server training its own, runs split evaluation of its data, or split
// generation with KV caches on both sides. It checkpoints its adapters, optimiser and step once the
// server has acknowledged its own checkpoint of the same step, and when the link fails mid-step it
// reconnects (bounded retries, exponential backoff) and resumes from that checkpoint.
import { RevertlmError } from '../../util/errors.js';
import { loadDevicePart, loadDeviceTail, loadTokenizer, type DeviceModel, type HFTokenizer, type ServerModel } from '../../models/index.js';
import { createDefense, deviceHooks, type Defense, type DefenseSpec, type DeviceHooks } from '../../defenses/index.js';
import { checkSplitPoint } from '../../models/split.js';
import { ids as idsTensor, optim } from '../../torch/index.js';
import type { FloatWireDType } from '../protocol/dtypes.js';
import type { FrameLimits } from '../protocol/limits.js';
import { DeviceSession, type DeviceSessionOptions } from '../session/device.js';
import { RemoteError } from '../session/types.js';
import { TransportClosedError, TransportTimeoutError, type Transport } from '../transport/transport.js';
import { AdapterSet, checkLoRASettings, type LoRASettings, type TrainableSet } from '../server/adapters.js';
import { modelFingerprint } from '../server/fingerprint.js';
import { CheckpointError, SnapshotStore, canonicalJson } from '../server/snapshots.js';
import { deviceKeyIn, saveDeviceKey } from './device_key.js';
import { captureState, disposeState, restoreState, type TrainState } from '../server/train_state.js';
import { TokenWindows } from './batches.js';
import { connectWebSocket } from './connect.js';
import { PartParameters } from './part_parameters.js';

export const DEVICE_CHECKPOINT_FORMAT = 'revertlm-split-device';

export interface SplitDeviceOptions {
  modelDir: string;
  /** k: the device runs the embeddings and blocks [0, k). */
  splitPoint: number;
  /** m > 0: U-shape, the device also runs the last m blocks, the head and the loss. */
  tail?: number;
  /** ws:// or wss:// URL of the server. */
  server: string;
  token: string;
  deviceId: string;
  wireDtype?: FloatWireDType;
  defense?: DefenseSpec | null;
  lora: LoRASettings;
  /**
   * What the device trains: its LoRA adapters (default), or 'full': every parameter of its parts
   * (embeddings, blocks [0, k) and the U-shape tail) in place. The server trains its adapters either way.
   */
  trainable?: DeviceTrainable;
  /** AdamW learning rate of the device's adapters (or parameters). */
  lr: number;
  checkpointDir?: string | null;
  /**
   * This device's own secret (provisioned by the operator). Default: the one kept in checkpointDir;
   * without one, the key the server issues at the first session (kept in checkpointDir, or in memory
   * for this process's reconnects).
   */
  deviceKey?: string | null;
  /** Checkpoint (both sides) every this many steps, and after the last. */
  checkpointEvery?: number;
  /** Consecutive failed attempts before giving up (a completed checkpoint resets the count). */
  retries?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Extra CA certificate(s) to trust for wss://. */
  ca?: Buffer | string | null;
  /** Longest wait for each server reply. */
  timeoutMs?: number;
  limits?: Partial<FrameLimits>;
  /** Opens a link to the server (default: a WebSocket to `server`). Tests wrap or replace it. */
  connect?: () => Promise<Transport>;
  log?: (line: string) => void;
}

export type DeviceTrainable = 'lora' | 'full';

export interface StepProgress {
  step: number;
  steps: number;
  loss: number;
  ms: number;
  /** This step's bytes, device → server and back. */
  up: number;
  down: number;
  /** All bytes so far, in this process (handshakes, checkpoints and retried steps included). */
  totalUp: number;
  totalDown: number;
  reconnects: number;
}

export interface FinetuneOptions {
  texts: readonly string[];
  steps: number;
  batch: number;
  seq: number;
  /** Seeds the order of the training windows (default: the LoRA seed). */
  dataSeed?: number;
  onStep?: (p: StepProgress) => void;
  /** Checked between steps: stop early (after a checkpoint) when it returns true. */
  shouldStop?: () => boolean;
}

interface StepRecord {
  loss: number;
  up: number;
  down: number;
  ms: number;
  extraLoss?: number;
}

export interface FinetuneResult {
  /** Loss of every step from 1 (steps before a resume come from the checkpoint). */
  losses: number[];
  /** Device-side penalty of each step (NoPeek), when the defense has one. */
  extraLosses: number[];
  steps: number;
  /** Steps already done when this process started (resumed from the checkpoint). */
  startStep: number;
  /** Bytes of each step, device → server (up) and back (down). */
  perStep: { up: number; down: number }[];
  /** Everything this process sent and received (handshakes, checkpoints, retried steps). */
  bytesUp: number;
  bytesDown: number;
  seconds: number;
  wireDtype: FloatWireDType;
  reconnects: number;
  interrupted: boolean;
}

export interface EvaluateOptions {
  texts: readonly string[];
  /** Windows per eval forward (the last batch may be smaller). */
  batch: number;
  seq: number;
  /** Evaluate the first n windows of the seeded order, each once (default: all of them). */
  windows?: number;
  /** Seeds the window order (default: the LoRA seed, as fine-tuning). */
  dataSeed?: number;
}

export interface EvaluateResult {
  /** Loss of each eval forward (the server's, or the device's in the U-shape). */
  losses: number[];
  /** Mean loss over the windows. */
  loss: number;
  windows: number;
  bytesUp: number;
  bytesDown: number;
  seconds: number;
  wireDtype: FloatWireDType;
  reconnects: number;
}

export interface GenerateRequest {
  prompt: string;
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature?: number;
  topK?: number;
}

export interface DeviceGenerateResult {
  text: string;
  ids: number[];
  promptIds: number[];
  bytesUp: number;
  bytesDown: number;
  /** Bytes of each generated token's round trip. */
  perStep: { up: number; down: number }[];
  seconds: number;
  wireDtype: FloatWireDType;
  reconnects: number;
}

/** What a device checkpoint belongs to; resuming under other settings is refused. */
interface DeviceCheckpointInfo {
  deviceId: string;
  modelFingerprint: string;
  splitPoint: number;
  tailBlocks: number;
  lora: LoRASettings;
  /** Absent for LoRA (checkpoints written before full fine-tuning existed have no such field). */
  trainable?: 'full';
  defense: string | null;
  data: { digest: string; batch: number; seq: number } | null;
}

export class DeviceRunError extends RevertlmError {}

/** Errors a server reports that a later attempt may not meet (the others repeat: settings, protocol, data). */
const RETRYABLE_REMOTE = new Set(['timeout', 'rate_limited', 'busy', 'shutting_down']);

/** Link failures worth another attempt; protocol and settings errors are not. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof TransportClosedError || e instanceof TransportTimeoutError) return true;
  return e instanceof RemoteError && RETRYABLE_REMOTE.has(e.code);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SplitDevice {
  readonly fingerprint: string;
  readonly tokenizer: HFTokenizer;
  readonly part: DeviceModel;
  readonly tailPart: ServerModel | null;
  /** What the device trains, installed in the parts: its adapters (device and tail blocks), or every parameter with trainable 'full'. */
  readonly adapters: TrainableSet;
  readonly optimizer: optim.AdamW | null;
  readonly defense: Defense | null;
  readonly #o: SplitDeviceOptions & { tail: number; wireDtype: FloatWireDType; trainable: DeviceTrainable };
  readonly #store: SnapshotStore<DeviceCheckpointInfo> | null;
  /** Presented in every hello: a device that can resume proves it is the same device. */
  #deviceKey: string | null;
  #bytes = { up: 0, down: 0 };

  constructor(o: SplitDeviceOptions) {
    checkLoRASettings(o.lora);
    this.#o = { ...o, tail: o.tail ?? 0, wireDtype: o.wireDtype ?? 'float32', trainable: o.trainable ?? 'lora' };
    if (this.#o.trainable !== 'lora' && this.#o.trainable !== 'full') throw new DeviceRunError(`trainable must be 'lora' or 'full', got '${String(this.#o.trainable)}'`);
    this.fingerprint = modelFingerprint(o.modelDir);
    this.tokenizer = loadTokenizer(o.modelDir);
    this.part = loadDevicePart(o.modelDir, o.splitPoint);
    let tail: ServerModel | null = null;
    try {
      checkSplitPoint(this.part.config.nLayers, o.splitPoint, { tail: this.#o.tail });
      tail = this.#o.tail > 0 ? loadDeviceTail(o.modelDir, this.#o.tail) : null;
      this.part.requiresGrad_(false);
      tail?.requiresGrad_(false);
      this.adapters = this.#o.trainable === 'full'
        ? new PartParameters([{ prefix: 'device', module: this.part }, ...(tail ? [{ prefix: 'tail', module: tail }] : [])])
        : AdapterSet.merge([AdapterSet.seeded(this.part, o.lora), ...(tail ? [AdapterSet.seeded(tail, o.lora)] : [])]);
      this.adapters.install();
      this.optimizer = this.adapters.size ? new optim.AdamW(this.adapters.parameters(), { lr: o.lr }) : null;
      this.defense = o.defense ? createDefense(o.defense) : null;
    } catch (e) {
      this.part.dispose();
      tail?.dispose();
      throw e;
    }
    this.tailPart = tail;
    this.#store = o.checkpointDir ? new SnapshotStore<DeviceCheckpointInfo>(o.checkpointDir, DEVICE_CHECKPOINT_FORMAT, { device: 2 }) : null;
    this.#deviceKey = o.deviceKey ?? (o.checkpointDir ? deviceKeyIn(o.checkpointDir) : null);
  }

  get wireDtype(): FloatWireDType {
    return this.#o.wireDtype;
  }

  dispose(): void {
    this.optimizer?.dispose();
    this.adapters.dispose();
    this.part.dispose();
    this.tailPart?.dispose();
  }

  /** Split LoRA fine-tuning for `steps` steps in total (continuing the checkpoint when there is one). */
  async finetune(f: FinetuneOptions): Promise<FinetuneResult> {
    const o = this.#o;
    const t0 = performance.now();
    if (!Number.isInteger(f.steps) || f.steps < 0) throw new DeviceRunError(`--steps must be a non-negative integer, got ${f.steps}`);
    if (!Number.isInteger(f.batch) || f.batch < 1) throw new DeviceRunError(`--batch must be a positive integer, got ${f.batch}`);
    if (f.seq > this.part.config.maxPositions) throw new DeviceRunError(`--seq ${f.seq} exceeds the model's ${this.part.config.maxPositions} positions`);
    const windows = new TokenWindows(this.tokenizer, f.texts, f.seq, f.dataSeed ?? o.lora.seed);
    const info = this.#info({ digest: windows.digest, batch: f.batch, seq: f.seq });
    const every = Math.max(1, o.checkpointEvery ?? 10);

    // Where to start: the checkpoint on disk, or step 0.
    let history: StepRecord[] = [];
    let last: { step: number; state: TrainState };
    const resumed = this.#resume(info, (extra) => (history = ((extra as { history?: StepRecord[] } | undefined)?.history ?? []).slice()));
    if (resumed) {
      last = resumed;
      history = history.slice(0, resumed.step);
      if (history.length !== resumed.step) throw new CheckpointError(`${o.checkpointDir}: the checkpoint at step ${resumed.step} lacks its loss history`);
      this.#log(`resuming from the checkpoint at step ${resumed.step}`);
    } else last = { step: 0, state: captureState(this.adapters, this.optimizer) };
    const startStep = last.step;
    let step = last.step;
    let failures = 0;
    let reconnects = 0;
    let interrupted = false;
    const hooks = deviceHooks(this.part, this.defense);

    try {
      while (step < f.steps && !interrupted) {
        let session: DeviceSession | null = null;
        let transport: Transport | null = null;
        try {
          transport = await this.#connect();
          session = await this.#open(transport, step + 1, hooks);
          while (step < f.steps) {
            const ids = windows.batch(step, f.batch);
            const s0 = performance.now();
            let r;
            try {
              r = await session.trainStep({ ids });
            } finally {
              ids.dispose();
            }
            step++;
            const rec: StepRecord = { loss: r.loss, up: r.bytes.sent, down: r.bytes.received, ms: performance.now() - s0, ...(r.extraLoss !== undefined ? { extraLoss: r.extraLoss } : {}) };
            history.push(rec);
            const stop = f.shouldStop?.() ?? false;
            if (step % every === 0 || step === f.steps || stop) {
              // The server saves its side first; only then does this checkpoint count.
              await session.checkpoint(`step-${step}`);
              last = this.#checkpoint(step, last, info, history);
              failures = 0;
            }
            const live = transport.stats;
            f.onStep?.({
              step, steps: f.steps, loss: rec.loss, ms: rec.ms, up: rec.up, down: rec.down,
              totalUp: this.#bytes.up + live.sent.bytes, totalDown: this.#bytes.down + live.received.bytes, reconnects,
            });
            if (stop) {
              interrupted = step < f.steps;
              break;
            }
          }
          await session.close('done');
        } catch (e) {
          const { delay, retries } = this.#retryAfter(e, ++failures);
          // Whatever this attempt did after the last checkpoint is redone.
          restoreState(this.adapters, this.optimizer, last.state);
          step = last.step;
          history = history.slice(0, step);
          reconnects++;
          this.#log(`link lost (${(e as Error).message}); retry ${failures}/${retries} in ${delay} ms, resuming from step ${step}`);
          await sleep(delay);
        } finally {
          if (transport) await this.#closeTransport(transport);
        }
      }
    } finally {
      disposeState(last.state);
    }
    return {
      losses: history.map((h) => h.loss),
      extraLosses: history.flatMap((h) => (h.extraLoss !== undefined ? [h.extraLoss] : [])),
      steps: step, startStep,
      perStep: history.map((h) => ({ up: h.up, down: h.down })),
      bytesUp: this.#bytes.up, bytesDown: this.#bytes.down,
      seconds: (performance.now() - t0) / 1000, wireDtype: o.wireDtype, reconnects, interrupted,
    };
  }

  /** Split evaluation: the first `windows` windows of the data (seeded order), each sent once as an eval forward. */
  async evaluate(e: EvaluateOptions): Promise<EvaluateResult> {
    const o = this.#o;
    const t0 = performance.now();
    if (!Number.isInteger(e.batch) || e.batch < 1) throw new DeviceRunError(`--batch must be a positive integer, got ${e.batch}`);
    if (e.seq > this.part.config.maxPositions) throw new DeviceRunError(`--seq ${e.seq} exceeds the model's ${this.part.config.maxPositions} positions`);
    this.#fromCheckpoint();
    const windows = new TokenWindows(this.tokenizer, e.texts, e.seq, e.dataSeed ?? o.lora.seed).ordered(e.windows);
    const { value: losses, reconnects } = await this.#withSession(async (session) => {
      const out: number[] = [];
      for (let i = 0; i < windows.length; i += e.batch) {
        const ids = idsTensor(windows.slice(i, i + e.batch));
        try {
          const r = await session.evaluate({ ids, withLoss: true });
          r.logits.dispose();
          out.push(r.loss ?? NaN);
        } finally {
          ids.dispose();
        }
      }
      return out;
    });
    const rows = losses.map((_, i) => Math.min(e.batch, windows.length - i * e.batch));
    return {
      losses, loss: losses.reduce((a, l, i) => a + l * rows[i]!, 0) / windows.length, windows: windows.length,
      bytesUp: this.#bytes.up, bytesDown: this.#bytes.down, seconds: (performance.now() - t0) / 1000, wireDtype: o.wireDtype, reconnects,
    };
  }

  /** Split generation of one prompt (the device's adapters from its checkpoint, when there is one). */
  async generate(g: GenerateRequest): Promise<DeviceGenerateResult> {
    const o = this.#o;
    const t0 = performance.now();
    this.#fromCheckpoint();
    const tok = this.tokenizer;
    let promptIds = tok.encode(g.prompt);
    if (!promptIds.length && tok.bosTokenId !== null) promptIds = [tok.bosTokenId];
    if (!promptIds.length) throw new DeviceRunError('the prompt is empty and the tokenizer has no BOS token to start from');
    const room = this.part.config.maxPositions - promptIds.length;
    if (room < 1) throw new DeviceRunError(`the prompt has ${promptIds.length} tokens; the model handles ${this.part.config.maxPositions} positions`);
    const maxNewTokens = Math.min(g.maxNewTokens, room);
    const { value, reconnects } = await this.#withSession(async (session, transport) => {
      const ids = idsTensor([promptIds]);
      let out: number[][];
      try {
        out = await session.generate(ids, { maxNewTokens, temperature: g.temperature ?? 1, topK: g.topK ?? 0, eosTokenId: tok.eosTokenId });
      } finally {
        ids.dispose();
      }
      const perStep = [...transport.stats.perStep.entries()].filter(([s]) => s > 0).sort((a, b) => a[0] - b[0]).map(([, b]) => ({ up: b.sent, down: b.received }));
      return { newIds: out[0]!, perStep };
    });
    const { newIds, perStep } = value;
    // Decoded in context, as models/generate does (alone, a continuation can lose its leading space).
    const decode = (x: number[]) => tok.decode(x, { skipSpecialTokens: true });
    const before = decode(promptIds);
    const all = decode([...promptIds, ...newIds]);
    return {
      text: all.startsWith(before) ? all.slice(before.length) : decode(newIds), ids: newIds, promptIds,
      bytesUp: this.#bytes.up, bytesDown: this.#bytes.down,
      perStep, seconds: (performance.now() - t0) / 1000, wireDtype: o.wireDtype, reconnects,
    };
  }

  /** Loads the device's trained state from its checkpoint, when there is one (evaluation and generation). */
  #fromCheckpoint(): void {
    const resumed = this.#resume(this.#info(null), () => undefined);
    if (resumed) {
      this.#log(`using the device ${this.#o.trainable === 'full' ? 'parameters' : 'adapters'} of the checkpoint at step ${resumed.step}`);
      disposeState(resumed.state);
    }
  }

  /**
   * Runs fn in one session (connect, hello, fn, bye); on a lost link, reconnects with backoff and
   * runs fn again from the start in a new session.
   */
  async #withSession<T>(fn: (session: DeviceSession, transport: Transport) => Promise<T>): Promise<{ value: T; reconnects: number }> {
    let failures = 0;
    let reconnects = 0;
    for (;;) {
      let transport: Transport | null = null;
      try {
        transport = await this.#connect();
        const session = await this.#open(transport, 1, { ...deviceHooks(this.part, this.defense), extraLoss: null });
        const value = await fn(session, transport);
        await session.close('done');
        return { value, reconnects };
      } catch (e) {
        const { delay, retries } = this.#retryAfter(e, ++failures);
        reconnects++;
        this.#log(`link lost (${(e as Error).message}); retry ${failures}/${retries} in ${delay} ms`);
        await sleep(delay);
      } finally {
        if (transport) await this.#closeTransport(transport);
      }
    }
  }

  /** After the n-th consecutive link failure: the backoff before retrying; rethrows what no retry can fix. */
  #retryAfter(e: unknown, failures: number): { delay: number; retries: number } {
    const o = this.#o;
    if (!isRetryable(e)) throw e;
    const retries = o.retries ?? 5;
    if (failures > retries) throw new DeviceRunError(`gave up after ${retries} retries: ${(e as Error).message}`, 'is the server running? check its log');
    return { delay: Math.min(o.maxBackoffMs ?? 10_000, (o.backoffMs ?? 500) * 2 ** (failures - 1)), retries };
  }

  /** Closes a link and counts its bytes into this process's totals. */
  async #closeTransport(transport: Transport): Promise<void> {
    await transport.close('device done').catch(() => undefined);
    this.#bytes.up += transport.stats.sent.bytes;
    this.#bytes.down += transport.stats.received.bytes;
  }

  #log(msg: string): void {
    (this.#o.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(msg);
  }

  #connect(): Promise<Transport> {
    const o = this.#o;
    return o.connect ? o.connect() : connectWebSocket(o.server, { limits: o.limits, timeoutMs: o.timeoutMs, ca: o.ca });
  }

  #info(data: DeviceCheckpointInfo['data']): DeviceCheckpointInfo {
    const o = this.#o;
    return {
      deviceId: o.deviceId, modelFingerprint: this.fingerprint, splitPoint: o.splitPoint, tailBlocks: o.tail, lora: o.lora,
      ...(o.trainable === 'full' ? { trainable: 'full' as const } : {}),
      defense: o.defense ? `${o.defense.name}:${o.defense.level}` : null, data,
    };
  }

  /**
   * Loads the latest device checkpoint into the adapters and optimiser (returns it, with a copy of
   * the state), or null without one. Fine-tuning needs the same data settings; generation only the
   * same model, split and adapters.
   */
  #resume(info: DeviceCheckpointInfo, onExtra: (extra: unknown) => void): { step: number; state: TrainState } | null {
    const store = this.#store;
    const idx = store?.read();
    if (!store || !idx) return null;
    const saved = idx.info;
    const same = (k: keyof DeviceCheckpointInfo) => canonicalJson(saved[k]) === canonicalJson(info[k]);
    const keys: (keyof DeviceCheckpointInfo)[] = info.data
      ? ['deviceId', 'modelFingerprint', 'splitPoint', 'tailBlocks', 'lora', 'trainable', 'defense', 'data']
      : ['deviceId', 'modelFingerprint', 'splitPoint', 'tailBlocks', 'lora', 'trainable'];
    const differ = keys.filter((k) => !same(k));
    if (differ.length) {
      throw new CheckpointError(
        `the checkpoint in ${store.dir} was made with other settings (${differ.map((k) => `${k}: ${JSON.stringify(saved[k])} vs ${JSON.stringify(info[k])}`).join('; ')})`,
        'use the same settings as the run that wrote it (only --steps may change), or another --checkpoint-dir',
      );
    }
    const latest = store.latest();
    if (!latest) return null;
    const s = store.load(latest);
    try {
      restoreState(this.adapters, this.optimizer, s);
    } catch (e) {
      disposeState(s);
      throw new CheckpointError(`${store.dir}: ${(e as Error).message}`);
    }
    disposeState(s);
    onExtra(idx.extra);
    return { step: latest.step, state: captureState(this.adapters, this.optimizer) };
  }

  #checkpoint(step: number, prev: { step: number; state: TrainState }, info: DeviceCheckpointInfo, history: StepRecord[]): { step: number; state: TrainState } {
    const state = captureState(this.adapters, this.optimizer, prev.state);
    this.#store?.save(step, 'device', state, info, { history });
    return { step, state };
  }

  /** A new session (hello → welcome); keeps the device key the server issued, if it did. */
  async #open(transport: Transport, firstStep: number, hooks: DeviceHooks): Promise<DeviceSession> {
    const session = new DeviceSession(this.#sessionOptions(transport, firstStep, hooks));
    const issued = (await session.connect()).deviceKey;
    if (issued && !this.#deviceKey) {
      // Kept before any work is sent: the server makes the binding permanent only at the first step.
      if (this.#o.checkpointDir) saveDeviceKey(this.#o.checkpointDir, issued);
      this.#deviceKey = issued;
      this.#log(`the server issued this device's key${this.#o.checkpointDir ? ` (kept in ${this.#o.checkpointDir})` : ' (kept in memory: give the device a --checkpoint-dir to keep it across runs)'}`);
    }
    return session;
  }

  #sessionOptions(transport: Transport, firstStep: number, hooks: DeviceHooks): DeviceSessionOptions {
    const o = this.#o;
    return {
      transport,
      part: hooks.part,
      tail: this.tailPart ? { model: this.tailPart, blocks: o.tail } : null,
      optimizer: this.optimizer,
      wireDtype: o.wireDtype,
      defense: hooks.send,
      extraLoss: hooks.extraLoss,
      deviceId: o.deviceId,
      authToken: o.token,
      ...(this.#deviceKey ? { deviceKey: this.#deviceKey } : {}),
      modelFingerprint: this.fingerprint,
      timeoutMs: o.timeoutMs ?? 600_000,
      firstStep,
    };
  }
}

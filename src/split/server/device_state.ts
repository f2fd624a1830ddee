// One device's server-side training state: its own LoRA adapters (over the shared frozen base
// part) and its own optimiser, plus what is needed to keep them in step with the device:
//
// - A training step becomes final only once the device shows it completed it: by starting a later
//   step, asking for a checkpoint or saying bye. Until then it is pending, and a session that ends
//   any other way (disconnect, error) rolls it back, so a half step never counts.
// - The first training step t of each session says the device is at step t - 1 (it may have resumed
//   from an older checkpoint of its own). The server then goes to its state after step t - 1: the
//   live one, a snapshot it kept for a device checkpoint, one on disk, or the initial adapters for
//   t = 1; it refuses the session when it has none.
// - Device checkpoints are kept in memory (the last two) and, with a checkpoint directory, on disk
//   before they are acknowledged; the state is also saved every N steps and when a session ends.
import type { ServerModel } from '../../models/index.js';
import { optim, type Tensor } from '../../torch/index.js';
import type { ServerModelLike } from '../session/types.js';
import { SessionError } from '../session/types.js';
import type { AdapterSet, LoRASettings } from './adapters.js';
import { CheckpointError, SnapshotStore, canonicalJson } from './snapshots.js';
import { captureState, disposeState, restoreState, type TrainState } from './train_state.js';

export const SERVER_CHECKPOINT_FORMAT = 'revertlm-split-server';

/** What a server checkpoint belongs to; a checkpoint made under other settings is not loaded. */
export interface ServerStateInfo {
  deviceId: string;
  modelFingerprint: string;
  splitPoint: number;
  tailBlocks: number;
  lora: LoRASettings;
}

/** The server part as one device sees it: the shared frozen base with this device's adapters. */
export class AdaptedPart implements ServerModelLike {
  constructor(readonly base: ServerModel, readonly adapters: AdapterSet) {}
  get splitPoint(): number {
    return this.base.splitPoint;
  }
  forward(hidden: Tensor, o?: Parameters<ServerModel['forward']>[1]): ReturnType<ServerModel['forward']> {
    return this.adapters.with(() => this.base.forward(hidden, o));
  }
  newCache(): ReturnType<ServerModel['newCache']> {
    return this.base.newCache();
  }
  trainableParameters(): Tensor[] {
    return this.adapters.parameters();
  }
  train(mode = true): void {
    this.base.train(mode);
    this.adapters.train(mode);
  }
  zeroGrad(): void {
    this.adapters.zeroGrad();
  }
}

export interface DeviceStateOptions {
  deviceId: string;
  base: ServerModel;
  /** Initial adapters (cloned for this device) and their state. */
  template: AdapterSet;
  templateState: TrainState;
  lr: number;
  info: ServerStateInfo;
  /** Directory of this device's checkpoints, or null to keep them in memory only. */
  dir: string | null;
  /** Also save every this many confirmed steps (0 = only on checkpoint requests and session ends). */
  every: number;
  log: (event: string, fields?: Record<string, unknown>) => void;
}

const MEMORY_SNAPSHOTS = 2;

export class DeviceState {
  readonly deviceId: string;
  readonly adapters: AdapterSet;
  readonly optimizer: optim.AdamW | null;
  readonly part: AdaptedPart;
  readonly #o: DeviceStateOptions;
  readonly #store: SnapshotStore<ServerStateInfo> | null;
  /** The state after step #step, the last one the device is known to have completed. */
  readonly #confirmed: TrainState;
  #step = 0;
  #pending: number | null = null;
  #sessionStart = true;
  /** The last step the device sent work for in this session (training, evaluation or generation). */
  #worked = 0;
  #saved = -1;
  readonly #memory: { step: number; state: TrainState }[] = [];
  /** The connection currently training this device (one at a time). */
  lease: { readonly id: number; close(reason: string): Promise<void>; readonly done: Promise<void> } | null = null;

  private constructor(o: DeviceStateOptions) {
    this.#o = o;
    this.deviceId = o.deviceId;
    this.adapters = o.template.clone();
    this.optimizer = this.adapters.size ? new optim.AdamW(this.adapters.parameters(), { lr: o.lr }) : null;
    this.part = new AdaptedPart(o.base, this.adapters);
    this.#store = o.dir ? new SnapshotStore<ServerStateInfo>(o.dir, SERVER_CHECKPOINT_FORMAT, { device: MEMORY_SNAPSHOTS, auto: 1 }) : null;
    this.#confirmed = captureState(this.adapters, this.optimizer);
  }

  /** A device's state: its latest checkpoint when the directory holds one, else fresh adapters. */
  static open(o: DeviceStateOptions): DeviceState {
    const s = new DeviceState(o);
    try {
      const latest = s.#checkedStore()?.latest();
      if (latest) {
        s.#restore(latest.step, () => s.#store!.load(latest));
        s.#saved = latest.step;
        o.log('device state loaded', { device: o.deviceId, step: latest.step, file: latest.file });
      }
    } catch (e) {
      s.dispose();
      throw e;
    }
    return s;
  }

  /** The step the state is at (pending steps excluded). */
  get step(): number {
    return this.#step;
  }
  get pending(): number | null {
    return this.#pending;
  }

  /** A new session starts: its first training step tells where the device is. */
  beginSession(): void {
    this.#sessionStart = true;
    this.#worked = this.#step;
  }

  /** The device sent work (a forward or a generation step) under step `t`. */
  noteWork(t: number): void {
    this.#worked = Math.max(this.#worked, t);
  }

  /** Called before the server runs training step t (its forward has arrived). */
  beforeTrainStep(t: number): void {
    if (this.#pending !== null) {
      if (t > this.#pending) this.#confirm();
      else this.#rollback();
    }
    if (this.#sessionStart) {
      this.#sessionStart = false;
      if (t - 1 !== this.#step) this.#goTo(t - 1);
    } else if (t <= this.#step) {
      throw new SessionError('bad_request', `training step ${t} does not follow step ${this.#step}`);
    }
    this.#pending = t;
  }

  /** A device checkpoint after step s: makes it final, keeps it, and saves it (when there is a directory). */
  checkpoint(s: number): string {
    if (this.#pending !== null) {
      if (s >= this.#pending) this.#confirm();
      else throw new SessionError('bad_request', `checkpoint at step ${s} before the running step ${this.#pending} finished`);
    }
    if (s < this.#step) throw new SessionError('bad_request', `checkpoint at step ${s}, but the device already trained step ${this.#step}`);
    if (s > Math.max(this.#step, this.#worked)) {
      throw new SessionError('bad_request', `checkpoint at step ${s}, but device '${this.deviceId}' is at step ${this.#step} on this server and sent no work after step ${Math.max(this.#step, this.#worked)}`);
    }
    // Steps after the last training step were evaluation or generation: the state is the same.
    this.#step = s;
    const prev = this.#memory.findIndex((m) => m.step === s);
    if (prev >= 0) disposeState(this.#memory.splice(prev, 1)[0]!.state);
    this.#memory.push({ step: s, state: captureState(this.adapters, this.optimizer) });
    while (this.#memory.length > MEMORY_SNAPSHOTS) disposeState(this.#memory.shift()!.state);
    if (!this.#store) return `step ${s} kept in memory (the server has no checkpoint directory)`;
    const snap = this.#store.save(s, 'device', this.#confirmed, this.#o.info);
    this.#saved = s;
    this.#o.log('checkpoint saved', { device: this.deviceId, step: s, file: snap.file });
    return `step ${s} saved`;
  }

  /** The session is over: `completed` (bye) makes a pending step final, anything else discards it. */
  endSession(completed: boolean): void {
    if (this.#pending !== null) {
      if (completed) this.#confirm();
      else {
        this.#o.log('half step discarded', { device: this.deviceId, step: this.#pending });
        this.#rollback();
      }
    }
    this.#sessionStart = true;
    this.save('auto');
  }

  /**
   * Saves the confirmed state if it changed since the last save (no-op without a directory). A device
   * that never completed a step has nothing to save: no directory is created for it.
   */
  save(kind: 'auto' | 'device' = 'auto'): void {
    if (!this.#store || this.#saved === this.#step || (this.#step === 0 && this.#saved < 0)) return;
    const snap = this.#store.save(this.#step, kind, this.#confirmed, this.#o.info);
    this.#saved = this.#step;
    this.#o.log('checkpoint saved', { device: this.deviceId, step: this.#step, file: snap.file });
  }

  /** Everything it holds is on disk (its latest state saved, nothing pending): it can be reloaded with open(). */
  get persisted(): boolean {
    return this.#store !== null && this.#saved === this.#step && this.#pending === null;
  }

  /** Nothing to keep in memory: no step trained, none pending, no device checkpoint held. */
  get untouched(): boolean {
    return this.#step === 0 && this.#pending === null && this.#memory.length === 0;
  }

  /** Copies of the live adapter values and optimiser state (for inspection and tests). */
  snapshot(): TrainState {
    return captureState(this.adapters, this.optimizer);
  }

  dispose(): void {
    disposeState(this.#confirmed);
    for (const m of this.#memory) disposeState(m.state);
    this.#memory.length = 0;
    this.optimizer?.dispose();
    this.adapters.dispose();
  }

  #checkedStore(): SnapshotStore<ServerStateInfo> | null {
    const idx = this.#store?.read();
    if (!idx) return this.#store;
    const a = canonicalJson(idx.info);
    const b = canonicalJson(this.#o.info);
    if (a !== b) {
      throw new CheckpointError(
        `the checkpoint of device '${this.deviceId}' in ${this.#o.dir} was made with other settings (${a}), this server runs ${b}`,
        'use the same --model, --split, --tail and --lora-* as the run that wrote it, or another --checkpoint-dir',
      );
    }
    return this.#store;
  }

  #confirm(): void {
    captureState(this.adapters, this.optimizer, this.#confirmed);
    this.#step = this.#pending!;
    this.#pending = null;
    if (this.#o.every > 0 && this.#step - Math.max(0, this.#saved) >= this.#o.every) this.save('auto');
  }

  #rollback(): void {
    restoreState(this.adapters, this.optimizer, this.#confirmed);
    this.#pending = null;
  }

  /** Moves the state to "after step k" (the device resumed from its checkpoint at k). */
  #goTo(k: number): void {
    const mem = this.#memory.find((m) => m.step === k);
    const disk = !mem && k > 0 ? this.#checkedStore()?.find(k) : null;
    if (mem) this.#restore(k, () => mem.state, false);
    else if (disk) this.#restore(k, () => this.#store!.load(disk));
    else if (k === 0) this.#restore(0, () => this.#o.templateState, false);
    else {
      const have = [...new Set([this.#step, ...this.#memory.map((m) => m.step), ...(this.#store?.read()?.snapshots.map((s) => s.step) ?? [])])].sort((a, b) => a - b);
      throw new SessionError(
        'bad_request',
        `the server has no state of device '${this.deviceId}' after step ${k} (it has steps ${have.join(', ')}); resume the device from a checkpoint the server acknowledged, or start over`,
      );
    }
    // Later snapshots belong to a branch the device abandoned.
    for (let i = this.#memory.length - 1; i >= 0; i--) if (this.#memory[i]!.step > k) disposeState(this.#memory.splice(i, 1)[0]!.state);
    this.#store?.dropAfter(k);
    this.#saved = disk ? k : -1;
    this.#o.log('device resumes', { device: this.deviceId, from: k });
  }

  #restore(k: number, get: () => TrainState, owned = true): void {
    const s = get();
    try {
      restoreState(this.adapters, this.optimizer, s);
    } finally {
      if (owned) disposeState(s);
    }
    captureState(this.adapters, this.optimizer, this.#confirmed);
    this.#step = k;
    this.#pending = null;
  }
}

// Checkpoints on disk: one directory holding `state.json` (the index, and the commit point) and
// `step-NNNNNNNN-<kind>.safetensors` files (adapter values + optimiser state at that step). A save
// writes the safetensors file atomically, then state.json atomically, then deletes files the new
// index no longer lists; a crash at any point leaves the previous index and its files intact.
// Used by the server (one store per device id) and by the device.
import { RevertlmError } from '../../util/errors.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, saveSafetensors, writeFileAtomic, type Tensor } from '../../torch/index.js';
import { stateFromSafetensors, stateToSafetensors, type TrainState } from './train_state.js';

export const INDEX = 'state.json';

export interface StoredSnapshot {
  /** The step the state is at: the device has completed every step up to and including it. */
  step: number;
  /** Why it was written ('device' = requested by the device, 'auto' = periodic / shutdown, ...). */
  kind: string;
  file: string;
  time: string;
}

export interface SnapshotIndex<I> {
  format: string;
  version: 1;
  /** What the state belongs to (settings, model fingerprint, ...), checked before resuming. */
  info: I;
  snapshots: StoredSnapshot[];
  /** Free-form extra data of the latest save (e.g. the device's loss history). */
  extra?: unknown;
}

export class CheckpointError extends RevertlmError {}

/** JSON with object keys sorted at every level, so equal settings compare equal whatever built them. */
export function canonicalJson(x: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : v;
  return JSON.stringify(sort(x));
}

const FILE_RE = /^step-\d{8,}-[a-z]+\.safetensors$/;

export class SnapshotStore<I> {
  /**
   * @param retain how many snapshots of each kind to keep (newest first); kinds not listed keep 1.
   */
  constructor(readonly dir: string, readonly format: string, readonly retain: Readonly<Record<string, number>> = {}) {}

  /** The index, or null when the directory holds no checkpoint. */
  read(): SnapshotIndex<I> | null {
    const p = join(this.dir, INDEX);
    if (!existsSync(p)) return null;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(p, 'utf8'));
    } catch (e) {
      throw new CheckpointError(`${p}: not valid JSON (${(e as Error).message})`, 'delete the checkpoint directory to start over');
    }
    const idx = raw as SnapshotIndex<I>;
    if (idx?.format !== this.format || idx.version !== 1 || !Array.isArray(idx.snapshots)) {
      throw new CheckpointError(`${p}: not a ${this.format} checkpoint`, 'point --checkpoint-dir at a directory written by this command, or an empty one');
    }
    // Every entry names a snapshot file of this directory: `../../elsewhere/x.safetensors` is not one.
    for (const s of idx.snapshots as unknown[]) {
      const e = s as Partial<StoredSnapshot> | null;
      if (!e || typeof e.file !== 'string' || !FILE_RE.test(e.file) || !Number.isSafeInteger(e.step) || e.step! < 0) {
        throw new CheckpointError(`${p}: snapshot entry ${JSON.stringify(s)?.slice(0, 160)} does not name a step-N-kind.safetensors file of ${this.dir}`, 'the index is damaged or was edited: restore it, or delete the checkpoint directory to start over');
      }
    }
    return idx;
  }

  latest(): StoredSnapshot | null {
    const idx = this.read();
    if (!idx?.snapshots.length) return null;
    return idx.snapshots.reduce((a, b) => (b.step > a.step ? b : a));
  }

  find(step: number): StoredSnapshot | null {
    return this.read()?.snapshots.find((s) => s.step === step) ?? null;
  }

  save(step: number, kind: string, state: TrainState, info: I, extra?: unknown): StoredSnapshot {
    if (!/^[a-z]+$/.test(kind)) throw new Error(`snapshot kind must be lowercase letters, got '${kind}'`);
    mkdirSync(this.dir, { recursive: true });
    const file = `step-${String(step).padStart(8, '0')}-${kind}.safetensors`;
    const { tensors, metadata } = stateToSafetensors(state);
    saveSafetensors(join(this.dir, file), tensors, { ...metadata, step: String(step), kind });
    const snap: StoredSnapshot = { step, kind, file, time: new Date().toISOString() };
    const prev = this.read()?.snapshots ?? [];
    const all = [...prev.filter((s) => s.file !== file), snap];
    const kept: StoredSnapshot[] = [];
    for (const k of new Set(all.map((s) => s.kind))) {
      const n = this.retain[k] ?? 1;
      kept.push(...all.filter((s) => s.kind === k).sort((a, b) => b.step - a.step || b.time.localeCompare(a.time)).slice(0, n));
    }
    kept.sort((a, b) => a.step - b.step);
    const idx: SnapshotIndex<I> = { format: this.format, version: 1, info, snapshots: kept, ...(extra !== undefined ? { extra } : {}) };
    writeFileAtomic(join(this.dir, INDEX), `${JSON.stringify(idx, null, 2)}\n`);
    this.#prune(kept);
    return snap;
  }

  #prune(kept: readonly StoredSnapshot[]): void {
    const keep = new Set(kept.map((s) => s.file));
    for (const f of readdirSync(this.dir)) {
      if (FILE_RE.test(f) && !keep.has(f)) {
        try {
          unlinkSync(join(this.dir, f));
        } catch {
          // Another process may have removed it; the index no longer needs it either way.
        }
      }
    }
  }

  /** Forgets every snapshot after `step` (a branch the owner abandoned by resuming from an older one). */
  dropAfter(step: number): void {
    const idx = this.read();
    if (!idx || idx.snapshots.every((s) => s.step <= step)) return;
    const kept = idx.snapshots.filter((s) => s.step <= step);
    writeFileAtomic(join(this.dir, INDEX), `${JSON.stringify({ ...idx, snapshots: kept }, null, 2)}\n`);
    this.#prune(kept);
  }

  /** Loads a snapshot's state (the caller disposes it). */
  load(s: StoredSnapshot): TrainState {
    const path = join(this.dir, s.file);
    let f: SafetensorsFile;
    try {
      f = SafetensorsFile.open(path);
    } catch (e) {
      throw new CheckpointError(`${path}: cannot read the checkpoint (${(e as Error).message})`);
    }
    const tensors = new Map<string, Tensor>();
    try {
      for (const k of f.keys()) tensors.set(k, f.get(k));
      return stateFromSafetensors(tensors, f.metadata);
    } catch (e) {
      for (const t of tensors.values()) t.dispose();
      throw new CheckpointError(`${path}: cannot read the checkpoint (${(e as Error).message})`);
    } finally {
      f.close();
    }
  }
}

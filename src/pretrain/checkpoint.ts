// Training checkpoints in DIR/checkpoint/: model and optimizer tensors as safetensors named by
// step, then state.json (step, sampler RNG state, settings, loss history) pointing at them.
// Every file is written atomically and state.json last, so a crash at any point leaves the
// previous complete checkpoint in force; files it no longer names are removed afterwards.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors, writeFileAtomic, type Tensor } from '../torch/index.js';
import type { Module } from '../torch/nn/index.js';
import type { Optimizer } from '../torch/optim/index.js';
import type { PretrainSettings } from './config.js';
import { fileInDir } from '../util/contained.js';

export const CHECKPOINT_DIR = 'checkpoint';
export const STATE_FILE = 'state.json';

export interface CheckpointState {
  version: 1;
  /** Completed optimisation steps. */
  step: number;
  /** The batch sampler's RNG state after `step` steps. */
  rngState: number;
  settings: PretrainSettings;
  /** The token stream trained on (a resume must see the same). */
  tokens: { count: number; sha256: string };
  /** Loss of every completed step. */
  losses: number[];
  /** Seconds spent in training steps so far. */
  trainSeconds: number;
  modelFile: string;
  optimizerFile: string;
  /** Per optimizer: its step count and learning rate. */
  optimizers: Record<string, { step: number; lr: number }>;
}

export const checkpointDir = (out: string) => join(out, CHECKPOINT_DIR);
export const hasCheckpoint = (out: string) => existsSync(join(checkpointDir(out), STATE_FILE));

export function saveCheckpoint(
  out: string,
  state: Omit<CheckpointState, 'version' | 'modelFile' | 'optimizerFile' | 'optimizers'>,
  model: Module,
  optimizers: Record<string, Optimizer>,
): void {
  const dir = checkpointDir(out);
  mkdirSync(dir, { recursive: true });
  const tag = String(state.step).padStart(8, '0');
  const modelFile = `model-${tag}.safetensors`;
  const optimizerFile = `optimizer-${tag}.safetensors`;
  saveSafetensors(join(dir, modelFile), model.stateDict());
  const optTensors = new Map<string, Tensor>();
  const optMeta: CheckpointState['optimizers'] = {};
  for (const [name, opt] of Object.entries(optimizers)) {
    const sd = opt.stateDict();
    optMeta[name] = { step: sd.step, lr: sd.lr };
    for (const [k, t] of sd.tensors) optTensors.set(`${name}/${k}`, t);
  }
  saveSafetensors(join(dir, optimizerFile), optTensors);
  const full: CheckpointState = { version: 1, ...state, modelFile, optimizerFile, optimizers: optMeta };
  writeFileAtomic(join(dir, STATE_FILE), `${JSON.stringify(full)}\n`);
  for (const f of readdirSync(dir)) {
    const stale = /^(model|optimizer)-\d+\.safetensors$/.test(f) && f !== modelFile && f !== optimizerFile;
    const orphanTmp = f.startsWith('.') && f.endsWith('.tmp');
    if (stale || orphanTmp) rmSync(join(dir, f), { force: true });
  }
}

export function readCheckpointState(out: string): CheckpointState {
  const path = join(checkpointDir(out), STATE_FILE);
  let s: CheckpointState;
  try {
    s = JSON.parse(readFileSync(path, 'utf8')) as CheckpointState;
  } catch (e) {
    throw new Error(`${path}: cannot read the checkpoint state (${(e as Error).message})`);
  }
  if (s.version !== 1 || !Number.isInteger(s.step) || !s.settings || !s.modelFile || !s.optimizerFile) {
    throw new Error(`${path}: not a revertlm pretraining checkpoint (version ${String(s.version)})`);
  }
  return s;
}

/** Copies a checkpoint's tensors into the model and optimizers (which must have the same shapes). */
export function restoreCheckpoint(out: string, s: CheckpointState, model: Module, optimizers: Record<string, Optimizer>): void {
  const dir = checkpointDir(out);
  const state = join(dir, STATE_FILE);
  const weights = loadSafetensors(fileInDir(dir, s.modelFile, state));
  try {
    model.loadStateDict(weights);
  } finally {
    for (const t of weights.values()) t.dispose();
  }
  const opt = loadSafetensors(fileInDir(dir, s.optimizerFile, state));
  try {
    for (const [name, o] of Object.entries(optimizers)) {
      const meta = s.optimizers[name];
      if (!meta) throw new Error(`checkpoint has no state for optimizer '${name}'`);
      const tensors = new Map<string, Tensor>();
      for (const [k, t] of opt) if (k.startsWith(`${name}/`)) tensors.set(k.slice(name.length + 1), t);
      o.loadStateDict({ step: meta.step, lr: meta.lr, tensors });
    }
  } finally {
    for (const t of opt.values()) t.dispose();
  }
}

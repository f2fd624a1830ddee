// Attacker checkpoints: attack.json (name, config, budget, what it was trained against) plus
// weights.safetensors holding every part's state dict under "<part>.<name>". Both written atomically.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Tensor, type nn, loadSafetensors, saveSafetensors, writeFileAtomic } from '../torch/index.js';
import type { DevicePart } from '../models/types.js';

export const CHECKPOINT_VERSION = 1;

export interface AttackMeta {
  version: number;
  attack: string;
  /** What the attacker was trained against; checked on load. */
  target: { family: string; dModel: number; vocabSize: number; splitPoint: number; nLayers: number };
  config: unknown;
  budget: unknown;
}

export function targetOf(device: DevicePart): AttackMeta['target'] {
  const c = device.config;
  return { family: c.family, dModel: c.dModel, vocabSize: c.vocabSize, splitPoint: device.splitPoint, nLayers: c.nLayers };
}

export function saveCheckpoint(dir: string, meta: Omit<AttackMeta, 'version'>, parts: Record<string, nn.Module>): void {
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, Tensor>();
  for (const [p, m] of Object.entries(parts)) for (const [k, t] of m.stateDict()) tensors.set(`${p}.${k}`, t);
  if (tensors.size) saveSafetensors(join(dir, 'weights.safetensors'), tensors, { attack: meta.attack });
  writeFileAtomic(join(dir, 'attack.json'), JSON.stringify({ version: CHECKPOINT_VERSION, ...meta }, null, 2) + '\n');
}

/** Reads attack.json and checks it was written by this attack (or one of `attack`, when a list) for this device part. */
export function readMeta(dir: string, attack: string | readonly string[], device: DevicePart): AttackMeta {
  const path = join(dir, 'attack.json');
  if (!existsSync(path)) throw new Error(`${dir}: no attack.json (not an attacker checkpoint)`);
  const meta = JSON.parse(readFileSync(path, 'utf8')) as AttackMeta;
  if (meta.version !== CHECKPOINT_VERSION) throw new Error(`${path}: checkpoint version ${meta.version}, expected ${CHECKPOINT_VERSION}`);
  const names = typeof attack === 'string' ? [attack] : attack;
  if (!names.includes(meta.attack)) throw new Error(`${path}: checkpoint of attack '${meta.attack}', not '${names[0]}'`);
  const want = targetOf(device);
  for (const k of Object.keys(want) as (keyof typeof want)[]) {
    if (meta.target[k] !== want[k]) {
      throw new Error(`${path}: trained against ${k}=${meta.target[k]}, but the device part has ${k}=${want[k]}`);
    }
  }
  return meta;
}

/** Loads the weights of each part (strict) from weights.safetensors. */
export function loadParts(dir: string, parts: Record<string, nn.Module>): void {
  const all = loadSafetensors(join(dir, 'weights.safetensors'));
  try {
    for (const [p, m] of Object.entries(parts)) {
      const prefix = `${p}.`;
      const sd = new Map([...all].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
      m.loadStateDict(sd);
    }
  } finally {
    for (const t of all.values()) t.dispose();
  }
}

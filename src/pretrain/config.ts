// Pretraining settings: defaults, validation, and the model config they describe.
import { RevertlmError } from '../util/errors.js';
import type { Family, ModelConfig } from '../models/types.js';
import { DEFAULT_FAMILY, FAMILIES, familyChoices, familyOf, shapeProblem, type FamilySpec } from '../models/families/index.js';

/** Every setting of a run (what a checkpoint stores and a resume must match). */
export interface PretrainSettings {
  family: Family;
  /** Requested tokenizer vocabulary (the trained one may be smaller on a tiny corpus). */
  vocab: number;
  dModel: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ff: number;
  seq: number;
  batch: number;
  steps: number;
  lr: number;
  minLr: number;
  warmup: number;
  weightDecay: number;
  clip: number;
  seed: number;
  checkpointEvery: number;
}

/** Settings a resumed run may change without invalidating the checkpoint. */
export const RESUMABLE_CHANGES = ['steps', 'checkpointEvery'] as const;

export class SettingsError extends RevertlmError {}

function familySpec(name: Family): FamilySpec {
  const f = FAMILIES.get(name);
  if (!f) throw new SettingsError(`family must be ${familyChoices()}, got '${name}'`);
  return f;
}

export function resolveSettings(p: Partial<PretrainSettings> & { family?: Family }): PretrainSettings {
  const family = familySpec(p.family ?? DEFAULT_FAMILY);
  const dModel = p.dModel ?? 128;
  const heads = p.heads ?? 4;
  const steps = p.steps ?? 1000;
  const lr = p.lr ?? 1e-3;
  const s: PretrainSettings = {
    family: family.name,
    vocab: p.vocab ?? 4096,
    dModel,
    layers: p.layers ?? 4,
    heads,
    kvHeads: p.kvHeads ?? heads,
    ff: p.ff ?? family.fresh.dFf(dModel),
    seq: p.seq ?? 128,
    batch: p.batch ?? 16,
    steps,
    lr,
    minLr: p.minLr ?? lr / 10,
    warmup: p.warmup ?? Math.min(100, Math.floor(steps / 10)),
    weightDecay: p.weightDecay ?? 0.1,
    clip: p.clip ?? 1,
    seed: p.seed ?? 0,
    checkpointEvery: p.checkpointEvery ?? 0,
  };
  validateSettings(s, family);
  return s;
}

function validateSettings(s: PretrainSettings, family: FamilySpec): void {
  const int = (k: keyof PretrainSettings, min: number) => {
    const v = s[k] as number;
    if (!Number.isInteger(v) || v < min) throw new SettingsError(`${k} must be an integer >= ${min}, got ${v}`);
  };
  int('vocab', 258);
  int('dModel', 2);
  int('layers', 1);
  int('heads', 1);
  int('kvHeads', 1);
  int('ff', 1);
  int('seq', 1);
  int('batch', 1);
  int('steps', 1);
  int('warmup', 0);
  int('seed', 0);
  int('checkpointEvery', 0);
  for (const k of ['lr', 'minLr', 'weightDecay', 'clip'] as const) {
    if (!(Number.isFinite(s[k]) && s[k] >= 0)) throw new SettingsError(`${k} must be a number >= 0, got ${s[k]}`);
  }
  if (s.dModel % s.heads !== 0) throw new SettingsError(`d-model ${s.dModel} is not divisible by heads ${s.heads}`, 'pick --heads dividing --d-model');
  if (s.heads % s.kvHeads !== 0) throw new SettingsError(`heads ${s.heads} is not divisible by kv-heads ${s.kvHeads}`);
  const problem = shapeProblem(family, { dModel: s.dModel, nHeads: s.heads, nKvHeads: s.kvHeads });
  if (problem) throw new SettingsError(problem, 'pick --d-model, --heads and --kv-heads (or --family) to fit');
}

/** The model these settings describe, for a tokenizer with the given size and special ids. */
export function modelConfigFor(s: PretrainSettings, tok: { vocabSize: number; bosTokenId: number | null; eosTokenId: number | null; padTokenId: number | null }): ModelConfig {
  return {
    family: s.family,
    vocabSize: tok.vocabSize,
    dModel: s.dModel,
    nLayers: s.layers,
    nHeads: s.heads,
    nKvHeads: s.kvHeads,
    dFf: s.ff,
    maxPositions: s.seq,
    normEps: 1e-5,
    ...familyOf(s).fresh.choices,
    bosTokenId: tok.bosTokenId,
    eosTokenId: tok.eosTokenId,
    padTokenId: tok.padTokenId,
  };
}

/** Differences between a checkpoint's settings and explicitly given ones (those a resume cannot change). */
export function settingsConflicts(saved: PretrainSettings, given: Partial<PretrainSettings>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(given) as [keyof PretrainSettings, unknown][]) {
    if (v === undefined || (RESUMABLE_CHANGES as readonly string[]).includes(k)) continue;
    if (saved[k] !== v) out.push(`${k}: checkpoint has ${saved[k]}, given ${v}`);
  }
  return out;
}

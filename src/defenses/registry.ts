import type { Defense, DefenseName } from './types.js';
import { GaussianDefense } from './gaussian.js';
import { DChiDefense } from './dchi.js';
import { TopKDefense, DimDropoutDefense } from './sparsify.js';
import { QuantizeDefense } from './quantize.js';
import { NoPeekDefense } from './nopeek.js';

export interface DefenseSpec {
  name: DefenseName;
  level: number;
  seed?: number;
  /** d_χ only. */
  snap?: boolean;
  /** Gaussian only: RMS of the clean activations (the unit of its level) and their width; measured on the first batch when not given. */
  rms?: number;
  dim?: number;
}

const FACTORIES: Record<DefenseName, (s: DefenseSpec) => Defense> = {
  gaussian: (s) => new GaussianDefense({ level: s.level, seed: s.seed, rms: s.rms, dim: s.dim }),
  dchi: (s) => new DChiDefense({ level: s.level, seed: s.seed, snap: s.snap }),
  topk: (s) => new TopKDefense(s.level),
  dropout: (s) => new DimDropoutDefense(s.level, s.seed),
  quantize: (s) => new QuantizeDefense(s.level),
  nopeek: (s) => new NoPeekDefense(s.level),
};

export const DEFENSE_NAMES = Object.keys(FACTORIES) as DefenseName[];

/** What a level means for each defense, for help texts and reports. */
export const LEVEL_MEANING: Record<DefenseName, string> = {
  gaussian: 'noise σ as a multiple of the clean activations’ RMS',
  dchi: 'noise scale 1/η on input embeddings',
  topk: 'fraction of components zeroed per token',
  dropout: 'probability of dropping each component',
  quantize: 'bit width (8 = int8, 4 = int4; 0 = off)',
  nopeek: 'weight of the distance-correlation penalty',
};

export function isDefenseName(s: string): s is DefenseName {
  return (DEFENSE_NAMES as string[]).includes(s);
}

export function createDefense(spec: DefenseSpec): Defense {
  return FACTORIES[spec.name](spec);
}

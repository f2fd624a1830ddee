export * from './types.js';
export { GaussianDefense, type GaussianOptions } from './gaussian.js';
export { classicGaussianEpsilon, analyticGaussianEpsilon, analyticGaussianDelta } from './gaussian_accounting.js';
export { DChiDefense, type DChiOptions } from './dchi.js';
export { TopKDefense, DimDropoutDefense } from './sparsify.js';
export { QuantizeDefense } from './quantize.js';
export { NoPeekDefense, distanceCorrelation } from './nopeek.js';
export { createDefense, isDefenseName, DEFENSE_NAMES, LEVEL_MEANING, type DefenseSpec } from './registry.js';
export { splitPerplexity, type SplitPerplexityOptions } from './utility.js';

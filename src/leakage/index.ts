// Public API of src/leakage: how much input information each block's representation keeps.
export {
  analyzeLeakage,
  analyzePairs,
  analyzeCapture,
  hiddenStats,
  ESTIMATORS,
  TOKEN_ESTIMATORS,
  HIDDEN_ESTIMATORS,
  type EstimatorName,
  type LayerLeakage,
  type LeakageReport,
  type AnalyzeOptions,
  type CaptureAnalysis,
  type CaptureOptions,
  type HiddenStatsOptions,
  type HiddenStats,
} from './analyze.js';
export { collectPairs, type TokenPairs, type HiddenCapture, type CollectOptions } from './pairs.js';
export { fitPca, type Pca, type PcaOptions } from './pca.js';
export { ksgMutualInformation, type KsgOptions, type KsgResult } from './ksg.js';
export { infoNceBound, type InfoNceOptions, type InfoNceResult, type Paired } from './infonce.js';
export { probeBound, pluginEntropy, type ProbeOptions, type ProbeResult, type Labelled } from './probe.js';
export { klEntropy, effectiveRank, sparsity, excessKurtosis, SPARSITY_TAU } from './entropy.js';
export { chebyshev, chebyshevBroadcast } from './chebyshev.js';
export { digamma, logGamma } from './special.js';
export { parseLayers } from './layers.js';
export { formatLeakageTable } from './format.js';
export { type LeakageProgress, type ProgressCallback } from './progress.js';

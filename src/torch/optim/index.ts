export { Optimizer, Adam, AdamW, SGD, clipGradNorm, type AdamOptions, type SGDOptions } from './optimizer.js';
export { warmupCosine, type WarmupCosineOptions } from './schedule.js';

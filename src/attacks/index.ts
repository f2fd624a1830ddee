// Public API of src/attacks: inversion attacks of split-LLM activations (threat model: README.md).
export type * from './types.js';
export { FINETUNE_TENSORS } from './types.js';
export { MemoryInterceptSource, makeBatch, withAnnouncedAdapters } from './intercept.js';
export { tokenWindows, AuxCorpus } from './data.js';
export { SipAttack, SipModel, SIP_DEFAULTS, SIP_BUDGET, type SipConfig } from './sip.js';
export { NearestAttack, nearestTokens, cosineLogits } from './nearest.js';
export { OptimizeAttack, BisrAttack, optimizeLogits, OPTIMIZE_DEFAULTS, type OptimizeConfig, type BisrConfigInput } from './optimize.js';
export { estimateDevice, sampleWindows, releaseSample, DeviceEstimate, loadDeviceEstimate, saveDeviceEstimate, EstimateFileError, ESTIMATION_DEFAULTS, ADAPTER_SEARCH, type AdapterSpec, type EstimationOptions, type EstimationResult } from './estimation/index.js';
export { RevertLMAttack, REVERTLM_DEFAULTS, REVERTLM_BUDGET, revertConfig, type RevertConfig, type RevertConfigInput, type OracleBatch } from './revertlm/index.js';
export { reencodeDistance, positionDistance, sequenceDistance, positionalPart, softEmbeds } from './reencode.js';
export { NEAR_COPY_COS } from './embedding_relatives.js';
export { GradientAttack, GRADIENT_DEFAULTS, GradientAttackError, type GradientConfig } from './gradient.js';
export { ATTACKS, ATTACK_NAMES, ACTIVATION_ATTACK_NAMES, readsFinetuneTraffic, needsOnlyArchitecture, assertRunsOnActivations, createAttack, isAttackName, type AttackName, type AttackConfig, type AttackEntry } from './registry.js';
export { tokenizerAddsBos } from './common.js';

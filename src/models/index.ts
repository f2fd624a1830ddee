// Hugging Face causal LMs of the registered families (Llama, GPT-2): loading, forward, splitting, LoRA, generation.
export type * from './types.js';
export { ModelError } from './errors.js';
export { parseHfConfig, readConfig, toHfConfig, validateConfig } from './config.js';
export {
  FAMILIES, DEFAULT_FAMILY, registerFamily, familyOf, familyChoices, supportedArchitectures, shapeProblem, blockName,
  type FamilySpec, type FamilyLayout, type FreshChoices, type HfSource, type Norm,
} from './families/index.js';
export { HFTokenizer, loadTokenizer } from './tokenizer.js';
export { Transformer } from './model.js';
export { DeviceModel, ServerModel } from './parts.js';
export { splitModel, checkSplitPoint, splitPointRange, type SplitParts, type SplitUse } from './split.js';
export { loadModel, loadDevicePart, loadServerPart, loadDeviceTail, loadWeights } from './loader.js';
export { saveModel } from './save.js';
export { randomModel } from './init.js';
export { KVStore } from './kv_cache.js';
export { ropeTables, applyRope, ropeInverseFrequencies } from './rope.js';
export { LoRA, Linear as LoRALinear, LORA_TARGETS, applyLoRA, targetProjections, loraParameters, namedLoRAParameters, mergeLoRA, saveLoRA, loadLoRA, type LoRAOptions } from './lora.js';
export { sequenceNll, type WindowOptions } from './perplexity.js';
export { sampleToken, argmax, type SamplingOptions } from './sampling.js';
export {
  generate, generateIds, modelStepper, splitStepper, SplitCache,
  type GenerateOptions, type GenerateResult, type StepFn, type Stepper,
} from './generate.js';

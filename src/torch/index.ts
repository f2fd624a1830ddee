// revertlm's tensor library: libtorch through a N-API addon.
export { Tensor, type Operand } from './tensor.js';
export type { DType } from './dtype.js';
export * from './creation.js';
export * as F from './functional.js';
export { noGrad, isGradEnabled, grad } from './autograd.js';
export { tidy, keep, dispose, liveTensors } from './scope.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * from './safetensors.js';
export * from './runtime.js';
export { Generator } from './generator.js';

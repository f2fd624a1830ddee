import { native, type GenHandle } from './native.js';
import { dtypeCode, type DType } from './dtype.js';
import { Tensor } from './tensor.js';

/**
 * An independent seeded random stream (CPU), for components that must be deterministic
 * under their own seed without touching libtorch's global generator.
 */
export class Generator {
  readonly #g: GenHandle;
  constructor(seed: number) {
    this.#g = native.generatorNew(seed);
  }
  reseed(seed: number): void {
    native.generatorSeed(this.#g, seed);
  }
  randn(shape: number[], dtype: DType = 'float32'): Tensor {
    return new Tensor(native.randnGen(shape, this.#g, dtypeCode(dtype)));
  }
  rand(shape: number[], dtype: DType = 'float32'): Tensor {
    return new Tensor(native.randGen(shape, this.#g, dtypeCode(dtype)));
  }
  randperm(n: number): Tensor {
    return new Tensor(native.randpermGen(n, this.#g));
  }
}

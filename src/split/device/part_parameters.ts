// Full fine-tuning on the device: every parameter of its parts (embeddings and blocks [0, k), plus
// the U-shape tail) is trained in place, instead of LoRA adapters beside frozen weights. Checkpoints,
// rollback and the optimiser see it through the same TrainableSet as the adapters. In the U-shape
// the tail's head is the device's own copy, so it is no longer tied to the device's embeddings once
// trained.
import { noGrad, type Tensor } from '../../torch/index.js';
import { ModelError } from '../../models/index.js';
import type { Module } from '../../torch/nn/index.js';
import type { TrainableSet } from '../server/adapters.js';

export class PartParameters implements TrainableSet {
  readonly #named: [string, Tensor][];

  /** The parameters of each part, named `<prefix>.<parameter name>` (e.g. 'device.layers.0.attn.q.weight'). */
  constructor(parts: readonly { prefix: string; module: Module }[]) {
    this.#named = parts.flatMap((p) => p.module.namedParameters(p.prefix));
  }

  get size(): number {
    return this.#named.length;
  }

  named(): [string, Tensor][] {
    return this.#named.slice();
  }

  parameters(): Tensor[] {
    return this.#named.map(([, t]) => t);
  }

  load(values: ReadonlyMap<string, Tensor>): void {
    for (const [name, t] of this.#named) {
      const v = values.get(name);
      if (!v) throw new ModelError(`parameter values lack '${name}'`);
      if (v.shape.join() !== t.shape.join()) throw new ModelError(`parameter '${name}' has shape [${v.shape.join(', ')}], expected [${t.shape.join(', ')}]`);
    }
    noGrad(() => {
      for (const [name, t] of this.#named) t.copy_(values.get(name)!);
    });
  }

  zeroGrad(): void {
    for (const [, t] of this.#named) t.zeroGrad();
  }

  /** Makes every parameter trainable. */
  install(): void {
    for (const [, t] of this.#named) t.requiresGrad_(true);
  }

  /** Freezes the parameters again; the parts own (and free) them. */
  dispose(): void {
    for (const [, t] of this.#named) t.requiresGrad_(false);
  }
}

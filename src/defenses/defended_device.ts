import { type Tensor, nn, tidy } from '../torch/index.js';
import type { DevicePart, KVCache, ModelConfig, PartForwardOptions } from '../models/types.js';
import type { Defense } from './types.js';

/**
 * A device part whose outputs pass through a defense: what the server receives from a defended
 * device. Embedding-stage defenses act on the input embeddings, activation-stage ones on H_k.
 * Used to capture defended victim traffic, and by adaptive attackers that simulate the defense
 * on their auxiliary data. Gradients flow through (defenses are differentiable or straight-through).
 */
export class DefendedDevice extends nn.Module implements DevicePart {
  constructor(readonly inner: DevicePart, readonly defense: Defense) {
    super();
    this.registerModule('inner', inner);
  }
  get config(): ModelConfig {
    return this.inner.config;
  }
  get splitPoint(): number {
    return this.inner.splitPoint;
  }
  get embeddingMatrix(): Tensor {
    return this.inner.embeddingMatrix;
  }
  embed(ids: Tensor, positionOffset?: number): Tensor {
    return this.inner.embed(ids, positionOffset);
  }
  newCache(): KVCache {
    return this.inner.newCache();
  }
  /** The wrapped part belongs to the caller: disposing the wrapper leaves it alone. */
  override dispose(): void {}
  forward(ids: Tensor, o?: PartForwardOptions): { hidden: Tensor; hiddenStates?: Tensor[] } {
    return tidy(() => this.forwardEmbeds(this.inner.embed(ids, o?.cache?.length ?? 0), o));
  }
  forwardEmbeds(embeds: Tensor, o?: PartForwardOptions): { hidden: Tensor; hiddenStates?: Tensor[] } {
    return tidy(() => {
      const e = this.defense.stage === 'embeddings' ? this.defense.apply(embeds, { embeddingMatrix: this.inner.embeddingMatrix }) : embeds;
      const r = this.inner.forwardEmbeds(e, o);
      if (this.defense.stage !== 'activations') return r;
      return { ...r, hidden: this.defense.apply(r.hidden) };
    });
  }
}

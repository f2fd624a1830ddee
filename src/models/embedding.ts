// Input embeddings (token, plus a learned position table in families that have one) and the language-model head.
import { type Tensor, nn, F, arange, empty, noGrad } from '../torch/index.js';
import type { ModelConfig } from './types.js';
import { ModelError } from './errors.js';
import { familyOf } from './families/index.js';

export class Embeddings extends nn.Module {
  readonly wte: nn.Embedding;
  /** Learned positions (e.g. GPT-2); null when positions enter elsewhere (RoPE). */
  readonly wpe: nn.Embedding | null;

  constructor(readonly config: ModelConfig) {
    super();
    this.wte = this.registerModule('wte', new nn.Embedding(config.vocabSize, config.dModel, { std: 0.02 }));
    this.wpe = familyOf(config).positions === 'learned' ? this.registerModule('wpe', new nn.Embedding(config.maxPositions, config.dModel, { std: 0.02 })) : null;
  }

  /** ids [B, T] → [B, T, dModel]; positions start at positionOffset. */
  forward(ids: Tensor, positionOffset = 0): Tensor {
    const x = this.wte.forward(ids);
    if (!this.wpe) return x;
    const T = ids.size(-1);
    if (positionOffset + T > this.config.maxPositions) {
      x.dispose();
      throw new ModelError(`positions up to ${positionOffset + T} exceed the model's ${this.config.maxPositions} learned positions`);
    }
    const pos = arange(positionOffset, positionOffset + T);
    const pe = this.wpe.forward(pos);
    const out = x.add(pe);
    for (const t of [x, pos, pe]) t.dispose();
    return out;
  }
}

/**
 * logits = h Wᵀ. A tied head reads the embedding module's matrix (and registers nothing, so the
 * matrix is one parameter of the model); a part without the embedding module registers the head
 * weight as its own parameter — the same tensor when split from a loaded model.
 */
export class LMHead extends nn.Module {
  readonly #tiedTo: Embeddings | null;

  constructor(config: ModelConfig, o: { tiedTo?: Embeddings; weight?: Tensor } = {}) {
    super();
    this.#tiedTo = o.tiedTo ?? null;
    if (!this.#tiedTo) {
      // A shared tensor keeps its requiresGrad (e.g. frozen by applyLoRA).
      if (o.weight) this.registerParameter('weight', o.weight, false);
      else this.registerParameter('weight', noGrad(() => empty([config.vocabSize, config.dModel]).normal_(0, 0.02)));
    }
  }

  get weight(): Tensor {
    return this.#tiedTo ? this.#tiedTo.wte.weight : this.param('weight');
  }

  get tied(): boolean {
    return this.#tiedTo !== null;
  }

  forward(h: Tensor): Tensor {
    return F.linear(h, this.weight);
  }
}

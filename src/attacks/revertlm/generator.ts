// RevertLM stage 2: the generator. An autoregressive Transformer decoder that reads stage 1's
// output sequence (and, optionally, H_k itself, so no information is lost between stages) as a
// token-aligned memory: memory row t is added to the decoder input that predicts token t, and every
// layer cross-attends to the whole memory.
import { Tensor, F, nn, arange, cat, full, rand } from '../../torch/index.js';
import { Container, TransformerLayer, keyMask, type NetConfig } from '../nn/transformer.js';
import type { KVStore } from '../../models/kv_cache.js';

export interface GeneratorConfig extends NetConfig {
  /** Bidirectional layers over the memory before decoding. */
  memLayers: number;
  labelSmoothing: number;
  /** Also feed H_k (layer-normalised) into the memory next to stage 1's Ê. */
  useHidden: boolean;
  /**
   * Training only: probability of hiding each previous token from the decoder (replaced by the
   * start symbol), so it leans on the memory rather than on the auxiliary domain's n-grams.
   */
  inputDropout: number;
  /**
   * Weight of a direct per-position head on the memory (cross-entropy to the true tokens, next to the
   * decoder's; 0 = no head). It trains the memory encoder to keep what separates tokens from the
   * first steps — without it, at deep splits and small budgets the decoder learns the auxiliary
   * domain's language model before it learns to read the memory — and its logits are one more
   * proposal source for re-encoding.
   */
  memoryHead: number;
}

// The memory encoder is as wide and deep as SIP's encoder (d 256 × 4 layers). Measured on the
// 12-block mail-llama-deep at k = 11, personalized device, 2000 × 300 budget, 16 windows: with
// d 128 and one memory layer RevertLM scored ROUGE-L 0.604 (its learned stages alone 0.251), below
// SIP's 0.793; with this size and the memory head, 0.968 (learned stages alone 0.545), and adapter
// estimation left 0.09 of the 0.30 drift instead of 0.31.
export const GENERATOR_DEFAULTS: GeneratorConfig = {
  d: 256, layers: 2, memLayers: 4, heads: 8, ff: 1024, dropout: 0.1, lr: 1e-3, weightDecay: 0.01, labelSmoothing: 0.05, maxLen: 64, useHidden: true, inputDropout: 0.25, memoryHead: 1,
};

export class Generator extends nn.Module {
  readonly ehatNorm: nn.LayerNorm;
  readonly hidNorm: nn.LayerNorm | null;
  readonly memIn: nn.Linear;
  readonly memPos: nn.Embedding;
  readonly memLayers: TransformerLayer[] = [];
  readonly memNorm: nn.LayerNorm;
  readonly tok: nn.Embedding;
  readonly pos: nn.Embedding;
  readonly layers: TransformerLayer[] = [];
  readonly outNorm: nn.LayerNorm;
  readonly head: nn.Linear;
  readonly memHead: nn.Linear | null;
  /** Id of the start symbol fed before the first token (one past the vocabulary). */
  readonly start: number;

  constructor(readonly dModel: number, readonly vocab: number, readonly c: GeneratorConfig) {
    super();
    const lo = { d: c.d, heads: c.heads, ff: c.ff, dropout: c.dropout };
    this.ehatNorm = this.registerModule('ehatNorm', new nn.LayerNorm(dModel));
    this.hidNorm = c.useHidden ? this.registerModule('hidNorm', new nn.LayerNorm(dModel)) : null;
    this.memIn = this.registerModule('memIn', new nn.Linear(c.useHidden ? 2 * dModel : dModel, c.d));
    this.memPos = this.registerModule('memPos', new nn.Embedding(c.maxLen, c.d, { std: 0.02 }));
    const ml = this.registerModule('memLayers', new Container());
    for (let i = 0; i < c.memLayers; i++) this.memLayers.push(ml.add(String(i), new TransformerLayer(lo)));
    this.memNorm = this.registerModule('memNorm', new nn.LayerNorm(c.d));
    this.start = vocab;
    this.tok = this.registerModule('tok', new nn.Embedding(vocab + 1, c.d, { std: 0.02 }));
    this.pos = this.registerModule('pos', new nn.Embedding(c.maxLen, c.d, { std: 0.02 }));
    const ls = this.registerModule('layers', new Container());
    for (let i = 0; i < c.layers; i++) this.layers.push(ls.add(String(i), new TransformerLayer(lo, c.d)));
    this.outNorm = this.registerModule('outNorm', new nn.LayerNorm(c.d));
    this.head = this.registerModule('head', new nn.Linear(c.d, vocab));
    // Checkpoints written before the head existed have no memoryHead in their config.
    this.memHead = (c.memoryHead ?? 0) > 0 ? this.registerModule('memHead', new nn.Linear(c.d, vocab)) : null;
  }

  /** The memory head's token logits [B, T, V] (null without a head). */
  memoryLogits(mem: Tensor): Tensor | null {
    return this.memHead ? this.memHead.forward(mem) : null;
  }

  /** Memory [B, T, d] from stage 1's Ê [B, T, D] (and H_k [B, T, D] when useHidden). */
  memory(ehat: Tensor, hidden: Tensor | null, mask: Tensor): Tensor {
    const T = ehat.size(1);
    if (T > this.c.maxLen) throw new RangeError(`sequence of ${T} positions exceeds the generator's maxLen ${this.c.maxLen}`);
    const parts = [this.ehatNorm.forward(ehat)];
    if (this.hidNorm) {
      if (!hidden) throw new Error('generator was built with useHidden but got no hidden states');
      parts.push(this.hidNorm.forward(hidden));
    }
    let m = this.memIn.forward(parts.length > 1 ? cat(parts, -1) : parts[0]!).add(this.memPos.forward(arange(T)));
    m = F.dropout(m, this.c.dropout, this.training);
    const km = keyMask(mask);
    for (const l of this.memLayers) m = l.forward(m, km, false);
    return this.memNorm.forward(m);
  }

  /**
   * Logits [N, t, V] for positions 0..t-1 given the tokens before each: prev [N, t] is
   * [START, x_0, ..., x_{t-2}].
   */
  forward(prev: Tensor, mem: Tensor, memMask: Tensor): Tensor {
    const t = prev.size(1);
    if (this.training && this.c.inputDropout > 0) prev = prev.maskedFill(rand(prev.shape).lt(this.c.inputDropout), this.start);
    let h = this.tok.forward(prev).add(this.pos.forward(arange(t))).add(mem.narrow(1, 0, t));
    h = F.dropout(h, this.c.dropout, this.training);
    const km = keyMask(memMask);
    for (const l of this.layers) h = l.forward(h, null, true, mem, km);
    return this.head.forward(this.outNorm.forward(h));
  }

  /** Cross-attention keys/values of the memory for every decoder layer (computed once per decode). */
  memoryKV(mem: Tensor): [Tensor, Tensor][] {
    return this.layers.map((l) => l.cross!.keysValues(mem));
  }

  /**
   * One decoding step (eval): logits [N, V] for position t given the token before it (tok [N];
   * START at t = 0), extending `cache` (a KVStore holding positions 0..t-1). Equals
   * forward(prev, …).select(1, t) with prev's last column tok.
   */
  step(tok: Tensor, t: number, mem: Tensor, memKV: [Tensor, Tensor][], memMask: Tensor, cache: KVStore): Tensor {
    let h = this.tok.forward(tok.unsqueeze(1)).add(this.pos.forward(arange(t, t + 1))).add(mem.narrow(1, t, 1));
    const km = keyMask(memMask);
    this.layers.forEach((l, i) => (h = l.step(h, cache, i, memKV[i]!, km)));
    cache.advance(1);
    return this.head.forward(this.outNorm.forward(h)).squeeze(1);
  }

  /** Teacher-forcing input for ids [B, T]: [START, ids[:, :-1]]. */
  shiftRight(ids: Tensor): Tensor {
    const B = ids.size(0);
    return cat([full([B, 1], this.start, { dtype: 'int64' }), ids.narrow(1, 0, ids.size(1) - 1)], 1);
  }
}

// A contiguous piece of a causal LM: optional input embeddings, blocks [start, end), optional
// final norm + head. The full model, the device part, the server part and the U-shaped device
// tail are all slices; they differ only in which pieces they hold and what forward returns.
import { type Tensor, nn, tidy } from '../torch/index.js';
import type { ModelConfig, PartForwardOptions } from './types.js';
import { Block, makeNorm, type BlockContext } from './block.js';
import { Embeddings, LMHead } from './embedding.js';
import { KVStore } from './kv_cache.js';
import { ropeTables } from './rope.js';
import { ModelError } from './errors.js';
import { familyOf, headDimOf } from './families/index.js';

export interface SlicePieces {
  embeddings: Embeddings | null;
  /** First block index (in the full model) and the blocks [start, start + blocks.length). */
  start: number;
  blocks: Block[];
  norm: ReturnType<typeof makeNorm> | null;
  head: LMHead | null;
}

export interface SliceSpec {
  embed: boolean;
  start: number;
  end: number;
  head: boolean;
}

/** Fresh (randomly initialised) pieces for a slice; weights are loaded or initialised afterwards. */
export function buildPieces(config: ModelConfig, s: SliceSpec): SlicePieces {
  if (!(Number.isInteger(s.start) && Number.isInteger(s.end) && 0 <= s.start && s.start <= s.end && s.end <= config.nLayers)) {
    throw new ModelError(`block range [${s.start}, ${s.end}) is not inside the model's ${config.nLayers} blocks`);
  }
  const embeddings = s.embed ? new Embeddings(config) : null;
  const blocks: Block[] = [];
  for (let i = s.start; i < s.end; i++) blocks.push(new Block(config, i));
  const norm = s.head ? makeNorm(config) : null;
  const head = s.head ? new LMHead(config, config.tieEmbeddings && embeddings ? { tiedTo: embeddings } : {}) : null;
  return { embeddings, start: s.start, blocks, norm, head };
}

/** Blocks registered under their global index, so names match across the model and its parts. */
class Layers extends nn.Module {
  constructor(blocks: Block[]) {
    super();
    for (const b of blocks) this.registerModule(String(b.index), b);
  }
}

export type ForwardOptions = PartForwardOptions & { positionOffset?: number };

export class Slice extends nn.Module {
  readonly embeddings: Embeddings | null;
  readonly blocks: readonly Block[];
  readonly norm: ReturnType<typeof makeNorm> | null;
  readonly head: LMHead | null;
  /** Block range [start, end) in the full model. */
  readonly start: number;
  readonly end: number;
  readonly #rotary: boolean;

  constructor(readonly config: ModelConfig, p: SlicePieces) {
    super();
    p.blocks.forEach((b, i) => {
      if (b.index !== p.start + i) throw new ModelError(`block ${b.index} found where block ${p.start + i} belongs`);
    });
    this.start = p.start;
    this.end = p.start + p.blocks.length;
    this.#rotary = familyOf(config).positions === 'rotary';
    this.embeddings = p.embeddings ? this.registerModule('embed', p.embeddings) : null;
    this.blocks = p.blocks;
    this.registerModule('layers', new Layers(p.blocks));
    this.norm = p.norm ? this.registerModule('norm', p.norm) : null;
    this.head = p.head ? this.registerModule('head', p.head) : null;
  }

  /** A cache for this slice's blocks. */
  newCache(): KVStore {
    return new KVStore();
  }

  protected embedIds(ids: Tensor, positionOffset = 0): Tensor {
    if (!this.embeddings) throw new ModelError('this part has no input embeddings');
    if (ids.ndim !== 2) throw new ModelError(`token ids must be [batch, seq], got [${ids.shape.join(', ')}]`);
    return this.embeddings.forward(ids, positionOffset);
  }

  /**
   * Runs the blocks over h [B, T, dModel]. Returns the last residual stream (h itself when the slice
   * has no blocks) and, when asked, the stream after every block.
   */
  protected runBlocks(h: Tensor, o: ForwardOptions): { hidden: Tensor; states?: Tensor[] } {
    if (h.ndim !== 3 || h.size(2) !== this.config.dModel) {
      throw new ModelError(`hidden states must be [batch, seq, ${this.config.dModel}], got [${h.shape.join(', ')}]`);
    }
    const cache = o.cache ?? null;
    if (cache !== null && !(cache instanceof KVStore)) throw new ModelError('cache was not made by this part (use part.newCache())');
    const [B, T] = h.shape as [number, number];
    const offset = cache ? cache.length : (o.positionOffset ?? 0);
    const rotary = this.#rotary && this.blocks.length > 0;
    // Rotary models too: past maxPositions, dynamic scaling and sliding windows would change the result.
    if (rotary && offset + T > this.config.maxPositions) {
      throw new ModelError(`positions up to ${offset + T} exceed the model's ${this.config.maxPositions} positions`, 'use shorter sequences (--max-tokens / --seq)');
    }
    const ctx: BlockContext = { mask: null, rope: null, cache };
    const states: Tensor[] | undefined = o.outputHiddenStates ? [] : undefined;
    let x = h;
    try {
      if (o.attentionMask) {
        const m = o.attentionMask;
        if (m.ndim !== 2 || m.size(0) !== B || m.size(1) !== offset + T) {
          throw new ModelError(`attentionMask must be [${B}, ${offset + T}] (batch, cached + new positions), got [${m.shape.join(', ')}]`);
        }
        ctx.mask = tidy(() => m.ne(0).view(B, 1, 1, offset + T));
      }
      if (rotary) {
        ctx.rope = ropeTables(headDimOf(this.config), this.config.ropeTheta, offset, T, this.config.ropeScaling);
      }
      for (const block of this.blocks) {
        const y = tidy(() => block.forward(x, ctx));
        if (!states && x !== h) x.dispose();
        states?.push(y);
        x = y;
      }
    } finally {
      ctx.mask?.dispose();
      ctx.rope?.cos.dispose();
      ctx.rope?.sin.dispose();
    }
    cache?.advance(T);
    return { hidden: x, states };
  }

  /** Final norm + head: logits [B, T, vocab]. */
  protected project(h: Tensor): Tensor {
    const { norm, head } = this;
    if (!norm || !head) throw new ModelError('this part has no final norm and head');
    return tidy(() => head.forward(norm.forward(h)));
  }
}

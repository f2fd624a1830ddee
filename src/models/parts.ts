// The two (or three) sides of a split model. Device: embeddings + blocks [0, k). Server: blocks
// [k, L - m), plus final norm + head when m = 0. U-shaped device tail: blocks [L - m, L) + norm + head.
import type { Tensor } from '../torch/index.js';
import type { DevicePart, PartForwardOptions, ServerPart } from './types.js';
import { Slice, type ForwardOptions } from './slice.js';

export class DeviceModel extends Slice implements DevicePart {
  get splitPoint(): number {
    return this.end;
  }

  embed(ids: Tensor, positionOffset = 0): Tensor {
    return this.embedIds(ids, positionOffset);
  }

  get embeddingMatrix(): Tensor {
    return this.embeddings!.wte.weight;
  }

  /** ids [B, T] → H_k [B, T, dModel] (right padding, as the full model). */
  forward(ids: Tensor, o: PartForwardOptions = {}): { hidden: Tensor; hiddenStates?: Tensor[] } {
    const e = this.embed(ids, o.cache?.length ?? 0);
    const r = this.forwardEmbeds(e, o);
    if (!r.hiddenStates && r.hidden !== e) e.dispose();
    return r;
  }

  /** hiddenStates[0] is `embeds`; with k = 0, hidden is `embeds` itself. */
  forwardEmbeds(embeds: Tensor, o: PartForwardOptions = {}): { hidden: Tensor; hiddenStates?: Tensor[] } {
    const { hidden, states } = this.runBlocks(embeds, o);
    return states ? { hidden, hiddenStates: [embeds, ...states] } : { hidden };
  }
}

/** Server part, and also the U-shaped device tail (a slice that ends with the head). */
export class ServerModel extends Slice implements ServerPart {
  get splitPoint(): number {
    return this.start;
  }

  /** Whether output is logits (this slice ends with norm + head) or the residual stream. */
  get hasHead(): boolean {
    return this.head !== null;
  }

  /**
   * hidden [B, T, dModel] from the previous part → logits [B, T, vocab] (with head) or the stream
   * after block end-1. Positions start at cache.length, else at positionOffset (default 0).
   */
  forward(hidden: Tensor, o: ForwardOptions = {}): { output: Tensor; hiddenStates?: Tensor[] } {
    const r = this.runBlocks(hidden, o);
    if (!this.head) return r.states ? { output: r.hidden, hiddenStates: r.states } : { output: r.hidden };
    const output = this.project(r.hidden);
    if (!r.states && r.hidden !== hidden) r.hidden.dispose();
    return r.states ? { output, hiddenStates: r.states } : { output };
  }
}


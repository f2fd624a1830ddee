// The full causal LM: embeddings → blocks → final norm → head.
import type { Tensor } from '../torch/index.js';
import type { CausalLM, ModelConfig, PartForwardOptions } from './types.js';
import { Slice, buildPieces, type SlicePieces } from './slice.js';
import { validateConfig } from './config.js';

export class Transformer extends Slice implements CausalLM {
  constructor(config: ModelConfig, pieces?: SlicePieces) {
    validateConfig(config);
    super(config, pieces ?? buildPieces(config, { embed: true, start: 0, end: config.nLayers, head: true }));
  }

  /** Input embeddings [B, T, dModel] (GPT-2: token + position embeddings). */
  embed(ids: Tensor, positionOffset = 0): Tensor {
    return this.embedIds(ids, positionOffset);
  }

  get embeddingMatrix(): Tensor {
    return this.embeddings!.wte.weight;
  }

  /**
   * ids [B, T] → logits [B, T, vocab]. Padding is on the right: position ids are 0, 1, … for every
   * row, and attentionMask (1 = real token) hides the padded keys; outputs at padded positions are
   * meaningless. hiddenStates[0] is the embedding output, hiddenStates[l] the stream after block l.
   */
  forward(ids: Tensor, o: PartForwardOptions = {}): { logits: Tensor; hiddenStates?: Tensor[] } {
    const e = this.embed(ids, o.cache?.length ?? 0);
    const r = this.forwardEmbeds(e, o);
    if (!o.outputHiddenStates) e.dispose();
    return r;
  }

  /** Same as forward but from input embeddings (soft tokens); hiddenStates[0] is `embeds` itself. */
  forwardEmbeds(embeds: Tensor, o: PartForwardOptions = {}): { logits: Tensor; hiddenStates?: Tensor[] } {
    const { hidden, states } = this.runBlocks(embeds, o);
    const logits = this.project(hidden);
    if (!states && hidden !== embeds) hidden.dispose();
    return states ? { logits, hiddenStates: [embeds, ...states] } : { logits };
  }

  /** logits from a final residual stream (before the final norm). */
  logits(hidden: Tensor): Tensor {
    return this.project(hidden);
  }
}

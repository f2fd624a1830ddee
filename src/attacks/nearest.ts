// Nearest-neighbour embedding lookup: per position, the vocabulary token whose input embedding
// is nearest (cosine) to H_k. Training-free; meaningful at shallow splits where the residual
// stream is still dominated by the token embedding. (RevertLM's `revertlm-nn` ablation applies
// the same lookup to stage 1's projection instead of H_k.)
import { Tensor, F, noGrad, tidy } from '../torch/index.js';
import type { Attack, AuxData, Budget, FitOptions, InterceptedBatch, Inversion, ServerKnowledge } from './types.js';
import { ZERO_BUDGET, checkBatch, decodeRows, rowsFromIds } from './common.js';
import { FirstTokenIndex } from './framing.js';
import { readMeta, saveCheckpoint, targetOf } from './checkpoint.js';

/** Cosine-similarity logits [B, T, V] between vectors [B, T, D] and the rows of E [V, D]. */
export function cosineLogits(vectors: Tensor, E: Tensor): Tensor {
  return tidy(() => {
    const v = vectors.div(vectors.norm(2, -1, true).clamp(1e-8));
    const e = E.div(E.norm(2, -1, true).clamp(1e-8));
    return F.linear(v, e);
  });
}

/** Index of the nearest (cosine) row of E for every vector: [B, T] int64. */
export function nearestTokens(vectors: Tensor, E: Tensor): Tensor {
  return noGrad(() => tidy(() => cosineLogits(vectors, E).argmax(-1)));
}

export class NearestAttack implements Attack {
  readonly name = 'nn';
  private readonly first: FirstTokenIndex;
  constructor(readonly knowledge: ServerKnowledge) {
    this.first = new FirstTokenIndex(knowledge.device);
  }

  async fit(_aux: AuxData, _o?: FitOptions): Promise<Budget> {
    return ZERO_BUDGET;
  }

  invert(batch: InterceptedBatch): Inversion {
    const d = this.knowledge.device;
    checkBatch(batch, d.config.dModel, d.splitPoint);
    const rows = tidy(() =>
      rowsFromIds(nearestTokens(batch.hidden, d.embeddingMatrix), batch.attentionMask, this.first.firstTokens(batch.hidden)),
    );
    return decodeRows(rows, this.knowledge.tokenizer);
  }

  save(dir: string): void {
    saveCheckpoint(dir, { attack: this.name, target: targetOf(this.knowledge.device), config: {}, budget: ZERO_BUDGET }, {});
  }
  load(dir: string): void {
    readMeta(dir, this.name, this.knowledge.device);
  }
  budget(): Budget {
    return ZERO_BUDGET;
  }
  dispose(): void {
    this.first.dispose();
  }
}

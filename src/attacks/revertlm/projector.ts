// RevertLM stage 1: the projector. A small bidirectional Transformer maps H_k to token-aligned
// predictions Ê of the input token embeddings, trained with MSE + cosine to the true embeddings
// and a token-discriminative term CE(s·cos(Ê, E)) against the frozen embedding matrix E, so the
// projection keeps what separates tokens, not just what minimises the mean error.
import { Tensor, F, nn, tensor, tidy, noGrad } from '../../torch/index.js';
import { SeqEncoder, ParamHolder, encoderOptions, type NetConfig } from '../nn/transformer.js';
import { cosineLogits } from '../nearest.js';

export interface ProjectorConfig extends NetConfig {
  mseWeight: number;
  cosWeight: number;
  ceWeight: number;
  /** Initial scale s of the cosine logits (learned). */
  ceScale: number;
}

export const PROJECTOR_DEFAULTS: ProjectorConfig = {
  d: 128, layers: 2, heads: 4, ff: 512, dropout: 0.1, lr: 1e-3, weightDecay: 0.01, maxLen: 64,
  mseWeight: 1, cosWeight: 1, ceWeight: 1, ceScale: 10,
};

export class Projector extends nn.Module {
  readonly encoder: SeqEncoder;
  readonly out: nn.Linear;
  readonly scale: ParamHolder;
  constructor(readonly dModel: number, readonly c: ProjectorConfig) {
    super();
    this.encoder = this.registerModule('encoder', new SeqEncoder(encoderOptions(c, dModel)));
    this.out = this.registerModule('out', new nn.Linear(c.d, dModel));
    this.scale = this.registerModule('scale', new ParamHolder('logScale', tensor([Math.log(c.ceScale)])));
  }
  /** Ê [B, T, dModel]. */
  forward(hidden: Tensor, mask: Tensor): Tensor {
    return this.out.forward(this.encoder.forward(hidden, mask));
  }
  /** Token logits s·cos(Ê, E) [B, T, V]. */
  tokenLogits(ehat: Tensor, E: Tensor): Tensor {
    return tidy(() => cosineLogits(ehat, E).mul(this.scale.param('logScale').exp()));
  }
  /**
   * Training loss. targets: [B, T] ids with -100 where not counted; E the frozen embedding matrix;
   * eScale the mean squared entry of E (normalises the MSE term).
   */
  loss(ehat: Tensor, targets: Tensor, E: Tensor, eScale: number): Tensor {
    const c = this.c;
    const counted = targets.ge(0);
    const safe = targets.maskedFill(targets.lt(0), 0);
    const w = counted.float();
    const n = w.sum().clamp(1);
    const truth = noGrad(() => F.embedding(E, safe));
    const mse = ehat.sub(truth).square().mean(-1).div(eScale).mul(w).sum().div(n);
    const cos = F.cosineSimilarity(ehat, truth, -1).rsub(1).mul(w).sum().div(n);
    const logits = this.tokenLogits(ehat, E);
    const ce = F.crossEntropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1));
    return mse.mul(c.mseWeight).add(cos.mul(c.cosWeight)).add(ce.mul(c.ceWeight));
  }
}

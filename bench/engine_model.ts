// The engine benchmark's model: a small decoder-only Transformer (pre-LayerNorm, GELU MLP,
// causal attention through F.attention), mirrored line for line by bench/peers/engine_peer.py.
import { type Tensor, F, nn, arange } from '../src/torch/index.js';

export interface TinyGptConfig {
  vocab: number;
  dModel: number;
  heads: number;
  layers: number;
  maxSeq: number;
  mlpRatio: number;
}

export const BENCH_CONFIG: TinyGptConfig = { vocab: 8000, dModel: 256, heads: 4, layers: 4, maxSeq: 64, mlpRatio: 4 };

class Block extends nn.Module {
  readonly ln1: nn.LayerNorm;
  readonly qkv: nn.Linear;
  readonly proj: nn.Linear;
  readonly ln2: nn.LayerNorm;
  readonly fc1: nn.Linear;
  readonly fc2: nn.Linear;

  constructor(readonly c: TinyGptConfig) {
    super();
    const d = c.dModel;
    this.ln1 = this.registerModule('ln1', new nn.LayerNorm(d));
    this.qkv = this.registerModule('qkv', new nn.Linear(d, 3 * d));
    this.proj = this.registerModule('proj', new nn.Linear(d, d));
    this.ln2 = this.registerModule('ln2', new nn.LayerNorm(d));
    this.fc1 = this.registerModule('fc1', new nn.Linear(d, c.mlpRatio * d));
    this.fc2 = this.registerModule('fc2', new nn.Linear(c.mlpRatio * d, d));
  }

  /** x [B, T, D] -> [B, T, D]. Intermediates are freed by the caller's tidy. */
  forward(x: Tensor): Tensor {
    const [b, t, d] = x.shape as [number, number, number];
    const h = this.c.heads;
    const heads = (z: Tensor) => z.view([b, t, h, d / h]).transpose(1, 2);
    const [q, k, v] = this.qkv.forward(this.ln1.forward(x)).chunk(3, -1) as [Tensor, Tensor, Tensor];
    const a = F.attention(heads(q), heads(k), heads(v), { causal: true }).transpose(1, 2).reshape([b, t, d]);
    const x1 = x.add(this.proj.forward(a));
    return x1.add(this.fc2.forward(F.gelu(this.fc1.forward(this.ln2.forward(x1)))));
  }
}

export class TinyGpt extends nn.Module {
  readonly tok: nn.Embedding;
  readonly pos: nn.Embedding;
  readonly blocks: Block[] = [];
  readonly lnF: nn.LayerNorm;
  readonly head: nn.Linear;

  constructor(readonly c: TinyGptConfig) {
    super();
    this.tok = this.registerModule('tok', new nn.Embedding(c.vocab, c.dModel, { std: 0.02 }));
    this.pos = this.registerModule('pos', new nn.Embedding(c.maxSeq, c.dModel, { std: 0.02 }));
    for (let i = 0; i < c.layers; i++) this.blocks.push(this.registerModule(`blocks.${i}`, new Block(c)));
    this.lnF = this.registerModule('ln_f', new nn.LayerNorm(c.dModel));
    this.head = this.registerModule('head', new nn.Linear(c.dModel, c.vocab, { bias: false }));
  }

  /** ids [B, T] int64 -> logits [B, T, vocab]. */
  forward(ids: Tensor): Tensor {
    const t = ids.size(1);
    let x = this.tok.forward(ids).add(this.pos.forward(arange(t)));
    for (const blk of this.blocks) x = blk.forward(x);
    return this.head.forward(this.lnF.forward(x));
  }

  /** Mean next-token cross-entropy of logits against targets [B, T]. */
  loss(ids: Tensor, targets: Tensor): Tensor {
    const logits = this.forward(ids);
    return F.crossEntropy(logits.view([-1, this.c.vocab]), targets.view([-1]));
  }
}

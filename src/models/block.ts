// One transformer block (pre-norm): x + attn(norm1(x)), then + mlp(norm2(·)).
// Family differences come from the family's spec (src/models/families): the norm, a gated or plain
// MLP, RoPE; the config gives the activation, biases and grouped-query attention.
import { type Tensor, nn, F } from '../torch/index.js';
import type { ModelConfig } from './types.js';
import { Linear } from './lora.js';
import { applyRope, type RopeTables } from './rope.js';
import type { KVStore } from './kv_cache.js';
import { familyOf, headDimOf, type Norm } from './families/index.js';

/** What every block of one forward pass shares. */
export interface BlockContext {
  /** bool [B, 1, 1, Tk], true = real key; null = no padding. */
  mask: Tensor | null;
  /** Rotary families only: RoPE tables for this forward's positions. */
  rope: RopeTables | null;
  cache: KVStore | null;
}

export function makeNorm(c: ModelConfig): Norm {
  return familyOf(c).norm(c);
}

function activate(c: ModelConfig, x: Tensor): Tensor {
  if (c.activation === 'silu') return F.silu(x);
  return F.gelu(x, c.activation === 'gelu_new' ? 'tanh' : 'none');
}

export class Attention extends nn.Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly headDim: number;

  constructor(readonly config: ModelConfig, readonly layer: number) {
    super();
    const { dModel: d, nHeads, nKvHeads, attentionBias: bias } = config;
    this.headDim = headDimOf(config);
    this.q = this.registerModule('q', new Linear(d, nHeads * this.headDim, { bias }));
    this.k = this.registerModule('k', new Linear(d, nKvHeads * this.headDim, { bias }));
    this.v = this.registerModule('v', new Linear(d, nKvHeads * this.headDim, { bias }));
    this.o = this.registerModule('o', new Linear(nHeads * this.headDim, d, { bias }));
  }

  forward(x: Tensor, ctx: BlockContext): Tensor {
    const [B, T] = x.shape as [number, number];
    const { nHeads: H, nKvHeads: Hkv } = this.config;
    const heads = (t: Tensor, n: number) => t.view(B, T, n, this.headDim).transpose(1, 2); // [B, n, T, hd]
    let q = heads(this.q.forward(x), H);
    let k = heads(this.k.forward(x), Hkv);
    let v = heads(this.v.forward(x), Hkv);
    if (ctx.rope) {
      q = applyRope(q, ctx.rope);
      k = applyRope(k, ctx.rope);
    }
    if (ctx.cache) [k, v] = ctx.cache.append(this.layer, k, v);
    if (Hkv !== H && T === 1) {
      // One query position (a cached step): the H / Hkv query heads of a key/value head become that
      // head's rows, so the keys and values are read in place instead of repeated per query head.
      const y = F.attention(q.reshape(B, Hkv, H / Hkv, this.headDim), k, v, { mask: ctx.mask, causal: false });
      return this.o.forward(y.reshape(B, 1, H * this.headDim));
    }
    if (Hkv !== H) {
      // Grouped-query attention: each key/value head serves H / Hkv query heads.
      const rep = (t: Tensor) => t.unsqueeze(2).expand(B, Hkv, H / Hkv, t.size(2), this.headDim).reshape(B, H, t.size(2), this.headDim);
      k = rep(k);
      v = rep(v);
    }
    const y = F.attention(q, k, v, { mask: ctx.mask, causal: true });
    return this.o.forward(y.transpose(1, 2).reshape(B, T, H * this.headDim));
  }
}

export class MLP extends nn.Module {
  /** Gated families (SwiGLU): down(act(gate(x)) · up(x)); others: down(act(up(x))). */
  readonly gate: Linear | null;
  readonly up: Linear;
  readonly down: Linear;

  constructor(readonly config: ModelConfig) {
    super();
    const { dModel: d, dFf, mlpBias: bias } = config;
    this.gate = familyOf(config).gatedMlp ? this.registerModule('gate', new Linear(d, dFf, { bias })) : null;
    this.up = this.registerModule('up', new Linear(d, dFf, { bias }));
    this.down = this.registerModule('down', new Linear(dFf, d, { bias }));
  }

  forward(x: Tensor): Tensor {
    const h = this.gate ? activate(this.config, this.gate.forward(x)).mul(this.up.forward(x)) : activate(this.config, this.up.forward(x));
    return this.down.forward(h);
  }
}

export class Block extends nn.Module {
  readonly norm1: ReturnType<typeof makeNorm>;
  readonly attn: Attention;
  readonly norm2: ReturnType<typeof makeNorm>;
  readonly mlp: MLP;

  /** `index` is the block's position in the full model (names and caches use it). */
  constructor(readonly config: ModelConfig, readonly index: number) {
    super();
    this.norm1 = this.registerModule('norm1', makeNorm(config));
    this.attn = this.registerModule('attn', new Attention(config, index));
    this.norm2 = this.registerModule('norm2', makeNorm(config));
    this.mlp = this.registerModule('mlp', new MLP(config));
  }

  /** Call inside tidy(): intermediate tensors are left to the enclosing scope. */
  forward(x: Tensor, ctx: BlockContext): Tensor {
    const h = x.add(this.attn.forward(this.norm1.forward(x), ctx));
    return h.add(this.mlp.forward(this.norm2.forward(h)));
  }
}

// Small pre-LayerNorm Transformer pieces for learned attackers: a bidirectional encoder over
// H_k (SIP, RevertLM's projector) and an autoregressive decoder with cross-attention (RevertLM's
// generator).
import { Tensor, F, nn, arange } from '../../torch/index.js';
import type { KVStore } from '../../models/kv_cache.js';

export class Container extends nn.Module {
  add<M extends nn.Module>(name: string, m: M): M {
    return this.registerModule(name, m);
  }
}

/** A free tensor parameter held by a module. */
export class ParamHolder extends nn.Module {
  constructor(name: string, t: Tensor, trainable = true) {
    super();
    this.registerParameter(name, t, trainable);
  }
}

/** [B, T] mask (1 = real) → bool [B, 1, 1, T] "may attend" mask. */
export function keyMask(mask: Tensor): Tensor {
  return mask.gt(0).unsqueeze(1).unsqueeze(1);
}

export class Attention extends nn.Module {
  readonly q: nn.Linear;
  readonly kv: nn.Linear;
  readonly out: nn.Linear;
  constructor(readonly d: number, readonly heads: number, kvDim = d) {
    super();
    if (d % heads) throw new RangeError(`model width ${d} is not divisible by ${heads} heads`);
    this.q = this.registerModule('q', new nn.Linear(d, d));
    this.kv = this.registerModule('kv', new nn.Linear(kvDim, 2 * d));
    this.out = this.registerModule('out', new nn.Linear(d, d));
  }
  forward(x: Tensor, mem: Tensor, mask: Tensor | null, causal: boolean, dropout: number): Tensor {
    const [k, v] = this.keysValues(mem);
    return this.attend(x, k, v, mask, causal, dropout);
  }
  /** Keys and values [B, heads, Tk, hd] of mem [B, Tk, kvDim]. */
  keysValues(mem: Tensor): [Tensor, Tensor] {
    const [B, Tk] = mem.shape as [number, number];
    const [k, v] = this.kv.forward(mem).view(B, Tk, 2, this.heads, this.d / this.heads).permute(2, 0, 3, 1, 4).chunk(2, 0) as [Tensor, Tensor];
    return [k.squeeze(0), v.squeeze(0)];
  }
  /** Queries from x [B, Tq, d] attending to keys/values [B, heads, Tk, hd] (causal aligns the last query with the last key). */
  attend(x: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, causal: boolean, dropout = 0): Tensor {
    const [B, Tq] = x.shape as [number, number];
    const q = this.q.forward(x).view(B, Tq, this.heads, this.d / this.heads).transpose(1, 2);
    const a = F.attention(q, k, v, { mask, causal, dropout, train: this.training });
    return this.out.forward(a.transpose(1, 2).reshape(B, Tq, this.d));
  }
}

export class FeedForward extends nn.Module {
  readonly up: nn.Linear;
  readonly down: nn.Linear;
  constructor(d: number, ff: number) {
    super();
    this.up = this.registerModule('up', new nn.Linear(d, ff));
    this.down = this.registerModule('down', new nn.Linear(ff, d));
  }
  forward(x: Tensor): Tensor {
    return this.down.forward(F.gelu(this.up.forward(x)));
  }
}

export interface LayerOptions {
  d: number;
  heads: number;
  ff: number;
  dropout: number;
}

/** Pre-LN layer: self-attention (bidirectional or causal), optional cross-attention, FFN. */
export class TransformerLayer extends nn.Module {
  readonly ln1: nn.LayerNorm;
  readonly self: Attention;
  readonly lnX: nn.LayerNorm | null;
  readonly cross: Attention | null;
  readonly ln2: nn.LayerNorm;
  readonly ffn: FeedForward;
  constructor(readonly o: LayerOptions, crossDim: number | null = null) {
    super();
    this.ln1 = this.registerModule('ln1', new nn.LayerNorm(o.d));
    this.self = this.registerModule('self', new Attention(o.d, o.heads));
    this.lnX = crossDim === null ? null : this.registerModule('lnX', new nn.LayerNorm(o.d));
    this.cross = crossDim === null ? null : this.registerModule('cross', new Attention(o.d, o.heads, crossDim));
    this.ln2 = this.registerModule('ln2', new nn.LayerNorm(o.d));
    this.ffn = this.registerModule('ffn', new FeedForward(o.d, o.ff));
  }
  /**
   * Incremental causal decoding (eval): x [N, 1, d] is the next position; its self-attention keys and
   * values join `cache` under `layer`; memKV are the cross-attention keys/values of the memory.
   */
  step(x: Tensor, cache: KVStore, layer: number, memKV: [Tensor, Tensor] | null, memMask: Tensor | null): Tensor {
    const h1 = this.ln1.forward(x);
    const [k, v] = this.self.keysValues(h1);
    const [ks, vs] = cache.append(layer, k, v);
    let y = x.add(this.self.attend(h1, ks, vs, null, false));
    if (this.cross && memKV) y = y.add(this.cross.attend(this.lnX!.forward(y), memKV[0], memKV[1], memMask, false));
    return y.add(this.ffn.forward(this.ln2.forward(y)));
  }
  forward(x: Tensor, selfMask: Tensor | null, causal: boolean, mem?: Tensor, memMask?: Tensor | null): Tensor {
    const p = this.o.dropout;
    const drop = (t: Tensor) => F.dropout(t, p, this.training);
    const h1 = this.ln1.forward(x);
    let y = x.add(drop(this.self.forward(h1, h1, selfMask, causal, p)));
    if (this.cross && mem) y = y.add(drop(this.cross.forward(this.lnX!.forward(y), mem, memMask ?? null, false, p)));
    return y.add(drop(this.ffn.forward(this.ln2.forward(y))));
  }
}

export interface EncoderOptions extends LayerOptions {
  inDim: number;
  layers: number;
  maxLen: number;
}

/** What every trained attack network is configured with: its size (as an encoder of any input width) and its optimiser. */
export interface NetConfig extends Omit<EncoderOptions, 'inDim'> {
  lr: number;
  weightDecay: number;
}

/** The encoder options of a network of config `c` over inputs of width `inDim`. */
export function encoderOptions(c: NetConfig, inDim: number): EncoderOptions {
  return { inDim, d: c.d, layers: c.layers, heads: c.heads, ff: c.ff, dropout: c.dropout, maxLen: c.maxLen };
}

/**
 * Bidirectional encoder over a sequence of vectors: LayerNorm on the input (H_k's scale grows with
 * depth and differs wildly between positions), projection, learned positions, layers, final LN.
 */
export class SeqEncoder extends nn.Module {
  readonly inNorm: nn.LayerNorm;
  readonly inProj: nn.Linear;
  readonly pos: nn.Embedding;
  readonly layers: TransformerLayer[] = [];
  readonly outNorm: nn.LayerNorm;
  constructor(readonly o: EncoderOptions) {
    super();
    this.inNorm = this.registerModule('inNorm', new nn.LayerNorm(o.inDim));
    this.inProj = this.registerModule('inProj', new nn.Linear(o.inDim, o.d));
    this.pos = this.registerModule('pos', new nn.Embedding(o.maxLen, o.d, { std: 0.02 }));
    const ls = this.registerModule('layers', new Container());
    for (let i = 0; i < o.layers; i++) this.layers.push(ls.add(String(i), new TransformerLayer(o)));
    this.outNorm = this.registerModule('outNorm', new nn.LayerNorm(o.d));
  }
  forward(x: Tensor, mask: Tensor): Tensor {
    const T = x.size(1);
    if (T > this.o.maxLen) throw new RangeError(`sequence of ${T} positions exceeds the attacker's maxLen ${this.o.maxLen}`);
    let h = this.inProj.forward(this.inNorm.forward(x)).add(this.pos.forward(arange(T)));
    h = F.dropout(h, this.o.dropout, this.training);
    const m = keyMask(mask);
    for (const l of this.layers) h = l.forward(h, m, false);
    return this.outNorm.forward(h);
  }
}

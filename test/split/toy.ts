// Tiny hand-made parts with the shapes of the model contract: a "device part" (embedding + one
// layer), a "server part" (a LoRA-adapted layer + frozen head, or without head for the U-shape)
// and a U-shape "tail" (a head). Position-wise, so a KV cache only has to count positions.
import * as torch from '../../src/torch/index.js';
import { causalLmLoss, type KVCache } from '../../src/split/index.js';

const { nn, F } = torch;
type Tensor = torch.Tensor;

export const V = 13;
export const D = 8;

export class ToyCache implements KVCache {
  length = 0;
  disposed = false;
  dispose(): void {
    this.disposed = true;
  }
}

function advance(o: { cache?: KVCache } | undefined, T: number): void {
  if (o?.cache) (o.cache as ToyCache).length += T;
}

/** Frozen base W + trainable low-rank B·A (B starts at zero, as LoRA). */
export class ToyLoRALinear extends nn.Module {
  readonly base: torch.nn.Linear;
  constructor(dIn: number, dOut: number, rank = 2) {
    super();
    this.base = this.registerModule('base', new nn.Linear(dIn, dOut));
    this.base.requiresGrad_(false);
    this.registerParameter('A', torch.noGrad(() => torch.tidy(() => torch.randn([rank, dIn]).mul(0.3))));
    this.registerParameter('B', torch.zeros([dOut, rank]));
  }
  forward(x: Tensor): Tensor {
    return torch.tidy(() => this.base.forward(x).add(F.linear(F.linear(x, this.param('A')), this.param('B'))));
  }
}

export class ToyDevice extends nn.Module {
  readonly splitPoint = 1;
  readonly emb = this.registerModule('emb', new nn.Embedding(V, D));
  readonly lin = this.registerModule('lin', new nn.Linear(D, D));
  forward(ids: Tensor, o?: { cache?: KVCache; attentionMask?: Tensor }): { hidden: Tensor } {
    advance(o, ids.size(1));
    return { hidden: torch.tidy(() => this.lin.forward(this.emb.forward(ids)).tanh()) };
  }
  newCache(): ToyCache {
    return new ToyCache();
  }
}

/** Server part: LoRA layer (+ frozen head unless U-shaped). */
export class ToyServer extends nn.Module {
  readonly splitPoint = 1;
  readonly layer = this.registerModule('layer', new ToyLoRALinear(D, D));
  readonly head: torch.nn.Linear | null;
  constructor(withHead: boolean) {
    super();
    this.head = withHead ? this.registerModule('head', new nn.Linear(D, V)) : null;
    this.head?.requiresGrad_(false);
  }
  forward(hidden: Tensor, o?: { cache?: KVCache; attentionMask?: Tensor; positionOffset?: number }): { output: Tensor } {
    advance(o, hidden.size(1));
    return {
      output: torch.tidy(() => {
        const h = this.layer.forward(hidden).tanh();
        return this.head ? this.head.forward(h) : h;
      }),
    };
  }
  newCache(): ToyCache {
    return new ToyCache();
  }
}

export class ToyTail extends nn.Module {
  readonly head = this.registerModule('head', new nn.Linear(D, V));
  forward(hidden: Tensor, o?: { cache?: KVCache }): { output: Tensor } {
    advance(o, hidden.size(1));
    return { output: this.head.forward(hidden) };
  }
  newCache(): ToyCache {
    return new ToyCache();
  }
}

export interface ToyModel {
  device: ToyDevice;
  server: ToyServer;
  tail: ToyTail | null;
  devOpt: torch.optim.Optimizer;
  srvOpt: torch.optim.Optimizer;
  dispose(): void;
}

/** Same seed, same weights: two calls give identical models (one split, one local reference). */
export function toyModel(seed: number, uShape: boolean, lr = 0.05): ToyModel {
  torch.manualSeed(seed);
  const device = new ToyDevice();
  const server = new ToyServer(!uShape);
  const tail = uShape ? new ToyTail() : null;
  const devOpt = new torch.optim.SGD([...device.trainableParameters(), ...(tail?.trainableParameters() ?? [])], { lr, momentum: 0.9 });
  const srvOpt = new torch.optim.AdamW(server.trainableParameters(), { lr });
  return {
    device, server, tail, devOpt, srvOpt,
    dispose() {
      devOpt.dispose();
      srvOpt.dispose();
      device.dispose();
      server.dispose();
      tail?.dispose();
    },
  };
}

/** The unsplit training step the split one must reproduce. */
export function localStep(m: ToyModel, ids: Tensor, defense?: (h: Tensor) => Tensor): number {
  return torch.tidy(() => {
    const h = m.device.forward(ids).hidden;
    const sent = defense ? defense(h) : h;
    const out = m.server.forward(sent).output;
    const logits = m.tail ? m.tail.forward(out).output : out;
    const loss = causalLmLoss(logits, ids.long(), -100);
    loss.backward();
    m.devOpt.step();
    m.srvOpt.step();
    m.devOpt.zeroGrad();
    m.srvOpt.zeroGrad();
    return loss.item();
  });
}

/** Greedy local generation with the composed parts (reference for split generation). */
export function localGenerate(m: ToyModel, ids: Tensor, n: number): number[][] {
  return torch.noGrad(() =>
    torch.tidy(() => {
      let seq = ids.clone();
      const out: number[][] = Array.from({ length: ids.size(0) }, () => []);
      for (let i = 0; i < n; i++) {
        const h = m.server.forward(m.device.forward(seq).hidden).output;
        const logits = m.tail ? m.tail.forward(h).output : h;
        const next = logits.select(1, seq.size(1) - 1).argmax(-1);
        next.toNumbers().forEach((t, r) => out[r]!.push(t));
        seq = torch.cat([seq, next.reshape([ids.size(0), 1])], 1);
      }
      return out;
    }),
  );
}

export function maxAbsDiff(a: Tensor[], b: Tensor[]): number {
  return torch.tidy(() => Math.max(...a.map((t, i) => t.sub(b[i]!).abs().max().item())));
}

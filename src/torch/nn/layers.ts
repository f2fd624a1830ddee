import { Tensor } from '../tensor.js';
import { empty, ones, zeros, randn, type CreateOptions } from '../creation.js';
import * as F from '../functional.js';
import { noGrad } from '../autograd.js';
import { Module } from './module.js';

export interface LinearOptions extends CreateOptions {
  bias?: boolean;
}

/** y = x Wᵀ + b, W [out, in]; initialised like torch.nn.Linear (U(±1/√in)). */
export class Linear extends Module {
  constructor(readonly inFeatures: number, readonly outFeatures: number, o: LinearOptions = {}) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    const dev = { device: o.device, dtype: o.dtype };
    this.registerParameter('weight', noGrad(() => empty([outFeatures, inFeatures], dev).uniform_(-bound, bound)));
    if (o.bias ?? true) this.registerParameter('bias', noGrad(() => empty([outFeatures], dev).uniform_(-bound, bound)));
  }
  get weight(): Tensor {
    return this.param('weight');
  }
  get bias(): Tensor | null {
    return this.hasParam('bias') ? this.param('bias') : null;
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

export class Embedding extends Module {
  constructor(readonly numEmbeddings: number, readonly dim: number, o: CreateOptions & { std?: number } = {}) {
    super();
    this.registerParameter('weight', noGrad(() => {
      const w = randn([numEmbeddings, dim], o);
      if (o.std === undefined || o.std === 1) return w;
      const s = w.mul(o.std);
      w.dispose();
      return s;
    }));
  }
  get weight(): Tensor {
    return this.param('weight');
  }
  forward(ids: Tensor): Tensor {
    return F.embedding(this.weight, ids);
  }
}

export class LayerNorm extends Module {
  constructor(readonly dim: number, readonly eps = 1e-5, o: CreateOptions & { bias?: boolean } = {}) {
    super();
    this.registerParameter('weight', ones([dim], o));
    if (o.bias ?? true) this.registerParameter('bias', zeros([dim], o));
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, [this.dim], this.param('weight'), this.hasParam('bias') ? this.param('bias') : null, this.eps);
  }
}

export class RMSNorm extends Module {
  constructor(readonly dim: number, readonly eps = 1e-6, o: CreateOptions = {}) {
    super();
    this.registerParameter('weight', ones([dim], o));
  }
  forward(x: Tensor): Tensor {
    return F.rmsNorm(x, this.param('weight'), this.eps);
  }
}

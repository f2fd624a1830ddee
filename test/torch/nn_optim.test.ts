// nn.Module bookkeeping, the layers, and the optimisers against torch.optim's update formulas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, tensor, tidy, nn, optim, F, ones, zeros, liveTensors, randn, noGrad, manualSeed, ids } from '../../src/torch/index.js';
import { assertAllClose, assertClose } from './helpers.js';

class Mlp extends nn.Module {
  readonly fc1: nn.Linear;
  readonly norm: nn.LayerNorm;
  readonly fc2: nn.Linear;
  constructor() {
    super();
    this.fc1 = this.registerModule('fc1', new nn.Linear(4, 8));
    this.norm = this.registerModule('norm', new nn.LayerNorm(8));
    this.fc2 = this.registerModule('fc2', new nn.Linear(8, 3, { bias: false }));
    this.registerBuffer('steps', zeros([1]));
    this.registerBuffer('scratch', zeros([2]), false);
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(F.gelu(this.norm.forward(this.fc1.forward(x))));
  }
}

test('named parameters, buffers and state dict of a nested module', () => {
  const m = new Mlp();
  try {
    assert.deepEqual(m.namedParameters().map(([n]) => n), ['fc1.weight', 'fc1.bias', 'norm.weight', 'norm.bias', 'fc2.weight']);
    assert.deepEqual(m.namedBuffers().map(([n]) => n), ['steps', 'scratch']);
    assert.deepEqual([...m.stateDict().keys()], ['fc1.weight', 'fc1.bias', 'norm.weight', 'norm.bias', 'fc2.weight', 'steps']);
    assert.equal(m.numParameters(), 4 * 8 + 8 + 8 + 8 + 8 * 3);
    assert.ok(m.parameters().every((p) => p.requiresGrad));
    assert.equal(m.child('fc1'), m.fc1);
    assert.deepEqual([...m.namedModules()].map(([n]) => n), ['', 'fc1', 'norm', 'fc2']);
    m.fc1.requiresGrad_(false);
    assert.equal(m.trainableParameters().length, 3);
    assert.equal(m.numParameters(true), 8 + 8 + 24);
  } finally {
    m.dispose();
  }
});

test('train / eval propagate to children', () => {
  const m = new Mlp();
  try {
    m.eval();
    assert.ok([...m.namedModules()].every(([, c]) => !c.training));
    m.train();
    assert.ok([...m.namedModules()].every(([, c]) => c.training));
  } finally {
    m.dispose();
  }
});

test('loadStateDict copies values; names missing / unexpected keys; shape mismatch leaves the module unchanged', () => {
  const a = new Mlp(), b = new Mlp();
  try {
    tidy(() => {
      a.loadStateDict(b.stateDict());
      for (const [n, t] of a.stateDict()) assert.deepEqual(t.toNumbers(), b.stateDict().get(n)!.toNumbers(), n);
      assert.notEqual(a.fc1.weight, b.fc1.weight, 'copied, not aliased');

      const missing = new Map(b.stateDict());
      missing.delete('norm.bias');
      assert.throws(() => a.loadStateDict(missing), /missing keys norm\.bias/);
      const extra = new Map(b.stateDict()).set('fc3.weight', zeros([1]));
      assert.throws(() => a.loadStateDict(extra), /unexpected keys fc3\.weight/);
      assert.deepEqual(a.loadStateDict(missing, false), { missing: ['norm.bias'], unexpected: [] });

      const before = a.fc1.weight.toNumbers();
      const bad = new Map(b.stateDict()).set('fc1.weight', ones([8, 4])).set('fc2.weight', ones([3, 7]));
      assert.throws(() => a.loadStateDict(bad), /shape mismatch for 'fc2\.weight': expected \[3,8\], got \[3,7\]/);
      assert.deepEqual(a.fc1.weight.toNumbers(), before, 'nothing copied before the error');
    });
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('Linear = x Wᵀ + b with torch init bounds; Embedding rows; LayerNorm / RMSNorm modules match F', () => {
  manualSeed(3);
  const lin = new nn.Linear(16, 5);
  const emb = new nn.Embedding(10, 4, { std: 0.02 });
  const ln = new nn.LayerNorm(4);
  const rms = new nn.RMSNorm(4, 1e-5);
  try {
    tidy(() => {
      const bound = 1 / Math.sqrt(16);
      assert.ok(lin.weight.abs().max().item() <= bound);
      assert.ok(lin.bias!.abs().max().item() <= bound);
      assert.ok(lin.weight.abs().max().item() > bound / 2, 'not all tiny');
      const x = randn([3, 16]);
      assertAllClose(lin.forward(x), x.matmul(lin.weight.T).add(lin.bias!).toNumbers(), { atol: 1e-5 });
      assertAllClose(new nn.Linear(2, 2, { bias: false }).forward(zeros([1, 2])), [0, 0]);
      const std = emb.weight.std().item();
      assert.ok(std > 0.01 && std < 0.03, `embedding std ${std}`);
      assertAllClose(emb.forward(ids([3])), emb.weight.select(0, 3).toNumbers());
      const h = randn([2, 4]);
      assertAllClose(ln.forward(h), F.layerNorm(h, [4]).toNumbers());
      assertAllClose(rms.forward(h), F.rmsNorm(h, null, 1e-5).toNumbers());
    });
  } finally {
    for (const m of [lin, emb, ln, rms]) m.dispose();
  }
});

test('Module.dispose frees every parameter and buffer', () => {
  const before = liveTensors();
  const m = new Mlp();
  assert.equal(liveTensors() - before, 7);
  m.dispose();
  assert.equal(liveTensors(), before);
});

// ---- optimisers: one parameter p with gradient g, compared with the torch.optim formulas in double.

function withGrads(values: number[], grads: number[], dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const p = tensor(values, undefined, { dtype }).requiresGrad_();
  p.grad = tensor(grads, undefined, { dtype });
  return p;
}

function adamRef(p: number[], gs: number[][], o: { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean }): number[] {
  const m = p.map(() => 0), v = p.map(() => 0);
  let x = [...p];
  gs.forEach((g0, s) => {
    const t = s + 1;
    x = x.map((xi, i) => {
      let g = g0[i]!;
      if (o.wd && o.decoupled) xi *= 1 - o.lr * o.wd;
      if (o.wd && !o.decoupled) g += o.wd * xi;
      m[i] = o.b1 * m[i]! + (1 - o.b1) * g;
      v[i] = o.b2 * v[i]! + (1 - o.b2) * g * g;
      const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - o.b2 ** t) + o.eps;
      return xi - (o.lr / (1 - o.b1 ** t)) * (m[i]! / denom);
    });
  });
  return x;
}

const P0 = [0.5, -1.5, 2, 0.01];
const G = [[0.1, -0.2, 0.3, -1e-4], [-0.05, 0.4, 0.3, 2]];

for (const [name, make, decoupled, wd] of [
  ['Adam', (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1, betas: [0.8, 0.95], eps: 1e-6 }), false, 0],
  ['Adam with L2 weight decay', (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.3 }), false, 0.3],
  ['AdamW (decoupled decay)', (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.1, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.3 }), true, 0.3],
] as const) {
  test(`${name}: two steps match the torch.optim formula (fused float32 path and float64 path)`, () => {
    const ref = adamRef(P0, G, { lr: 0.1, b1: 0.8, b2: 0.95, eps: 1e-6, wd, decoupled });
    const one = adamRef(P0, [G[0]!], { lr: 0.1, b1: 0.8, b2: 0.95, eps: 1e-6, wd, decoupled });
    for (const dtype of ['float32', 'float64'] as const) {
      tidy(() => {
        const p = withGrads(P0, G[0]!, dtype);
        const opt = make([p]);
        opt.step();
        assertAllClose(p, one, { rtol: dtype === 'float64' ? 1e-12 : 2e-6, atol: 0, msg: `${dtype} step 1` });
        p.grad = tensor(G[1]!, undefined, { dtype });
        opt.step();
        assertAllClose(p, ref, { rtol: dtype === 'float64' ? 1e-12 : 2e-6, atol: 0, msg: `${dtype} step 2` });
        assert.equal(opt.stepCount, 2);
        opt.dispose();
      });
    }
  });
}

test('Adam: the fused kernel and the generic path agree on a non-contiguous parameter', () => {
  tidy(() => {
    manualSeed(4);
    const base = randn([6, 5]);
    const g = randn([6, 5]);
    const a = noGrad(() => base.clone()).requiresGrad_(); // contiguous: fused
    const b = noGrad(() => base.T.contiguous().T.detach()).requiresGrad_(); // same values, transposed strides: generic
    assert.equal(b.isContiguous, false);
    a.grad = g.clone();
    b.grad = g.clone();
    const oa = new optim.AdamW([a], { lr: 0.05 }), ob = new optim.AdamW([b], { lr: 0.05 });
    for (let i = 0; i < 3; i++) {
      oa.step();
      ob.step();
    }
    assertAllClose(a, b.toNumbers(), { rtol: 1e-6, atol: 1e-7 });
    assert.ok(a.sub(base).abs().max().item() > 0.1, 'parameters moved');
    oa.dispose();
    ob.dispose();
  });
});

test('optimisers skip parameters without a gradient', () => {
  tidy(() => {
    const p = tensor([1, 2]).requiresGrad_();
    const q = withGrads([3], [1]);
    const opt = new optim.AdamW([p, q], { lr: 0.1 });
    opt.step();
    assert.deepEqual(p.toNumbers(), [1, 2]);
    assert.notDeepEqual(q.toNumbers(), [3]);
    opt.dispose();
  });
});

test('per-parameter step counts (torch.optim state[\'step\']): a late first gradient gets step-1 bias correction', () => {
  tidy(() => {
    const o = { lr: 0.1, b1: 0.8, b2: 0.95, eps: 1e-6, wd: 0, decoupled: true };
    const a = withGrads([1], [0.5]);
    const late = tensor([2]).requiresGrad_();
    const opt = new optim.Adam([a, late], { lr: 0.1, betas: [0.8, 0.95], eps: 1e-6 });
    opt.step();
    opt.step(); // `late` has no gradient for two steps
    assert.deepEqual(late.toNumbers(), [2]);
    late.grad = tensor([-0.3]);
    opt.step();
    assertAllClose(late, adamRef([2], [[-0.3]], o), { rtol: 2e-6, atol: 0 });
    assertAllClose(a, adamRef([1], [[0.5], [0.5], [0.5]], o), { rtol: 2e-6, atol: 0 });
    assert.deepEqual(opt.stateDict().steps, [3, 1]);
    assert.equal(opt.stepCount, 3);
    opt.dispose();
  });
  tidy(() => {
    // SGD with dampening: the buffer starts as the first gradient the parameter actually gets
    const late = tensor([1]).requiresGrad_();
    const opt = new optim.SGD([withGrads([0], [1]), late], { lr: 1, momentum: 0.9, dampening: 0.5 });
    opt.step();
    late.grad = tensor([2]);
    opt.step();
    assertAllClose(late, [1 - 2]);
    opt.dispose();
  });
});

test('tied weights are listed once by parameters() (so stepped once) but under every name in the state dict', () => {
  class Tied extends nn.Module {
    readonly a: nn.Linear;
    readonly b: nn.Linear;
    constructor() {
      super();
      this.a = this.registerModule('a', new nn.Linear(2, 2, { bias: false }));
      this.b = this.registerModule('b', new nn.Linear(2, 2, { bias: false }));
      (this.b as unknown as { registerParameter(n: string, t: Tensor): void }).registerParameter('weight', this.a.weight);
    }
  }
  const m = new Tied();
  assert.equal(m.parameters().length, 1);
  assert.deepEqual(m.namedParameters().map(([n]) => n), ['a.weight']);
  assert.deepEqual(m.namedParameters('', false).map(([n]) => n), ['a.weight', 'b.weight']);
  assert.deepEqual([...m.stateDict().keys()], ['a.weight', 'b.weight']);
  assert.equal(m.numParameters(), 4);
  tidy(() => {
    const w0 = m.a.weight.toNumbers();
    m.a.weight.grad = ones([2, 2]);
    const opt = new optim.SGD(m.parameters(), { lr: 1 });
    opt.step();
    assertAllClose(m.b.weight, w0.map((x) => x - 1), { msg: 'one step, not two' });
  });
  m.dispose();
});

test('SGD: plain, momentum (two steps), dampening, Nesterov, weight decay', () => {
  const lr = 0.1, mom = 0.9;
  const g1 = [1, -2], g2 = [0.5, 0.5];
  tidy(() => {
    const p = withGrads([1, 1], g1);
    const opt = new optim.SGD([p], { lr });
    opt.step();
    assertAllClose(p, [1 - 0.1, 1 + 0.2]);
  });
  for (const [nesterov, damp] of [[false, 0], [true, 0], [false, 0.3]] as const) {
    tidy(() => {
      const p = withGrads([1, 1], g1);
      const opt = new optim.SGD([p], { lr, momentum: mom, nesterov, dampening: damp });
      opt.step(); // buf = g1 (no dampening on the first step)
      const d1 = g1.map((g, i) => (nesterov ? g + mom * g1[i]! : g1[i]!));
      const p1 = [1, 1].map((x, i) => x - lr * d1[i]!);
      assertAllClose(p, p1, { msg: `nesterov=${nesterov} step 1` });
      p.grad = tensor(g2);
      opt.step(); // buf = mom·buf + (1 - damp)·g2
      const buf = g1.map((b, i) => mom * b + (1 - damp) * g2[i]!);
      const d2 = g2.map((g, i) => (nesterov ? g + mom * buf[i]! : buf[i]!));
      assertAllClose(p, p1.map((x, i) => x - lr * d2[i]!), { msg: `nesterov=${nesterov} dampening=${damp} step 2` });
      opt.dispose();
    });
  }
  tidy(() => {
    const p = withGrads([2, -2], [0, 0]);
    const opt = new optim.SGD([p], { lr, weightDecay: 0.5 });
    opt.step(); // g + wd·p
    assertAllClose(p, [2 - lr * 1, -2 + lr * 1]);
  });
});

test('optimizer state round trip: a restored optimiser continues identically', () => {
  tidy(() => {
    const a = withGrads(P0, G[0]!);
    const oa = new optim.AdamW([a], { lr: 0.1 });
    oa.step();
    const b = noGrad(() => a.detach().clone()).requiresGrad_();
    const ob = new optim.AdamW([b], { lr: 0.1 });
    ob.loadStateDict(oa.stateDict());
    assert.equal(ob.stepCount, 1);
    a.grad = tensor(G[1]!);
    b.grad = tensor(G[1]!);
    oa.step();
    ob.step();
    assertAllClose(a, b.toNumbers(), { rtol: 0, atol: 0 });
    assert.deepEqual([...oa.stateDict().tensors.keys()], ['exp_avg.0', 'exp_avg_sq.0']);
    assert.throws(() => ob.loadStateDict({ step: 1, steps: [1, 1], tensors: new Map() }), /steps for 2 parameters/);
    const wrong = new Map([['exp_avg.0', zeros([3])], ['exp_avg_sq.0', zeros([4])]]);
    assert.throws(() => ob.loadStateDict({ step: 1, tensors: wrong }), /exp_avg\.0': expected shape \[4\], got \[3\]/);
    oa.dispose();
    ob.dispose();
  });
  assert.throws(() => new optim.SGD([], { lr: 1 }), /no parameters/);
  assert.throws(() => new optim.SGD([tensor([1])], { lr: -1 }), /learning rate/);
});

test('clipGradNorm: returns the global norm, scales down to maxNorm, leaves small gradients alone', () => {
  tidy(() => {
    const a = withGrads([0, 0], [3, 0]);
    const b = withGrads([0], [4]);
    const norm = optim.clipGradNorm([a, b], 1);
    assertClose(norm, 5);
    const after = Math.hypot(...a.grad!.toNumbers(), ...b.grad!.toNumbers());
    assertClose(after, 1, 1e-5);
    assertAllClose(a.grad!, [0.6, 0], { rtol: 1e-5 });
    assertClose(optim.clipGradNorm([a, b], 10), 1, 1e-5);
    assertAllClose(b.grad!, [0.8], { rtol: 1e-5 });
    assert.equal(optim.clipGradNorm([tensor([1]).requiresGrad_()], 1), 0, 'no gradients');
  });
});

test('warmupCosine: linear warm-up, cosine decay to minLr, constant after', () => {
  const lr = optim.warmupCosine({ maxLr: 1e-3, minLr: 1e-5, warmupSteps: 10, totalSteps: 110 });
  assertClose(lr(0), 1e-4, 1e-12);
  assertClose(lr(4), 5e-4, 1e-12);
  assertClose(lr(9), 1e-3, 1e-12);
  assertClose(lr(10), 1e-3, 1e-12);
  assertClose(lr(60), (1e-3 + 1e-5) / 2, 1e-12); // half-way through the decay
  assertClose(lr(35), 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + Math.cos(Math.PI / 4)), 1e-12);
  assertClose(lr(110), 1e-5, 1e-12);
  assertClose(lr(500), 1e-5, 1e-12);
  for (let s = 10; s < 110; s++) assert.ok(lr(s + 1) <= lr(s), `decreasing at ${s}`);
  assertClose(optim.warmupCosine({ maxLr: 1, warmupSteps: 0, totalSteps: 4 })(2), 0.5, 1e-12);
});

test('a few optimisation steps reduce the loss of a small MLP (end to end)', () => {
  manualSeed(7);
  const m = new Mlp();
  const opt = new optim.AdamW(m.parameters(), { lr: 1e-2 });
  const x = randn([16, 4]), y = ids(Array.from({ length: 16 }, (_, i) => i % 3));
  const losses: number[] = [];
  for (let i = 0; i < 30; i++) {
    losses.push(tidy(() => {
      const l = F.crossEntropy(m.forward(x), y);
      l.backward();
      return l.item();
    }));
    opt.step();
    opt.zeroGrad();
  }
  assert.ok(losses[29]! < losses[0]! * 0.7, `loss ${losses[0]} -> ${losses[29]}`);
  opt.dispose();
  m.dispose();
  x.dispose();
  y.dispose();
});

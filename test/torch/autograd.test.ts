// Autograd mechanics: flags, backward, accumulation, zeroGrad, detach, noGrad, functional grad.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy, noGrad, isGradEnabled, grad, ones, F } from '../../src/torch/index.js';
import { assertAllClose } from './helpers.js';

test('requiresGrad flag, leaves, backward of a scalar fills .grad', () => {
  tidy(() => {
    const x = tensor([1, 2, 3]);
    assert.equal(x.requiresGrad, false);
    x.requiresGrad = true;
    assert.equal(x.requiresGrad, true);
    assert.equal(x.isLeaf, true);
    assert.equal(x.grad, null, 'no gradient before backward');
    const y = x.mul(x).sum(); // d/dx Σx² = 2x
    assert.equal(y.requiresGrad, true);
    assert.equal(y.isLeaf, false);
    y.backward();
    assertAllClose(x.grad!, [2, 4, 6]);
  });
});

test('gradients accumulate across backward calls until zeroGrad (set to none)', () => {
  tidy(() => {
    const w = tensor([1, -1]).requiresGrad_();
    w.mul(3).sum().backward();
    w.mul(3).sum().backward();
    assertAllClose(w.grad!, [6, 6]);
    w.zeroGrad();
    assert.equal(w.grad, null);
    w.mul(tensor([1, 2])).sum().backward();
    assertAllClose(w.grad!, [1, 2]);
  });
});

test('.grad returns a new handle each call; setting .grad replaces it', () => {
  tidy(() => {
    const w = tensor([1, 2]).requiresGrad_();
    w.sum().backward();
    const g1 = w.grad!, g2 = w.grad!;
    assert.notEqual(g1, g2);
    g1.dispose();
    assertAllClose(g2, [1, 1], { msg: 'disposing one handle leaves the gradient' });
    w.grad = tensor([5, 6]);
    assertAllClose(w.grad!, [5, 6]);
    w.grad = null;
    assert.equal(w.grad, null);
  });
});

test('backward of a non-scalar needs a gradient; retainGraph allows a second pass', () => {
  tidy(() => {
    const x = tensor([1, 2]).requiresGrad_();
    const y = x.mul(x);
    assert.throws(() => y.backward(), /non-scalar tensor needs a gradient/);
    y.backward(tensor([1, 10]), true);
    assertAllClose(x.grad!, [2, 40]);
    y.backward(tensor([1, 0])); // the graph was retained
    assertAllClose(x.grad!, [4, 40]);
    assert.throws(() => y.backward(tensor([1, 0])), /backward through the graph a second time/);
  });
});

test('retainGrad keeps the gradient of an intermediate', () => {
  tidy(() => {
    const x = tensor([1, 2]).requiresGrad_();
    const h = x.mul(2).retainGrad();
    h.mul(h).sum().backward();
    assertAllClose(h.grad!, [4, 8]);
    assertAllClose(x.grad!, [8, 16]);
  });
});

test('detach cuts the graph and shares storage', () => {
  tidy(() => {
    const x = tensor([1, 2]).requiresGrad_();
    const d = x.detach();
    assert.equal(d.requiresGrad, false);
    const y = x.mul(d).sum(); // gradient only through the first factor
    y.backward();
    assertAllClose(x.grad!, [1, 2]);
    noGrad(() => x.fill_(7));
    assert.deepEqual(d.toNumbers(), [7, 7], 'detach shares memory');
  });
});

test('noGrad builds no graph, restores the previous mode, also after a throw', () => {
  tidy(() => {
    const w = ones([2]).requiresGrad_();
    assert.equal(isGradEnabled(), true);
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      return w.mul(2).sum();
    });
    assert.equal(y.requiresGrad, false);
    assert.throws(() => y.backward(), /does not require grad/);
    assert.equal(isGradEnabled(), true);
    assert.throws(() => noGrad(() => { throw new Error('boom'); }), /boom/);
    assert.equal(isGradEnabled(), true);
    noGrad(() => noGrad(() => 0));
    assert.equal(isGradEnabled(), true, 'nested noGrad restores');
    assert.throws(() => noGrad(() => Promise.resolve(1)), /synchronous/);
    assert.equal(isGradEnabled(), true);
  });
});

test('grad(): functional gradients leave .grad alone; createGraph gives second derivatives', () => {
  tidy(() => {
    const x = tensor([1, 2, 3], undefined, { dtype: 'float64' }).requiresGrad_();
    const y = x.pow(3).sum();
    const [g] = grad([y], [x], undefined, true); // 3x²
    assertAllClose(g!, [3, 12, 27]);
    assert.equal(x.grad, null);
    const [g2] = grad([g!.sum()], [x]); // 6x
    assertAllClose(g2!, [6, 12, 18]);
    // unused inputs give null; gradOutputs weight a non-scalar output
    const z = tensor([1]).requiresGrad_();
    const out = x.mul(2);
    const [gx, gz] = grad([out], [x, z], [tensor([1, 0, 1], undefined, { dtype: 'float64' })]);
    assertAllClose(gx!, [2, 0, 2]);
    assert.equal(gz, null);
  });
});

test('a gradient flows through every parameter of a small network (none is dead)', () => {
  tidy(() => {
    const w1 = tensor([0.1, -0.2, 0.3, 0.4, -0.5, 0.6], [3, 2]).requiresGrad_();
    const w2 = tensor([0.7, -0.8, 0.9], [1, 3]).requiresGrad_();
    const x = tensor([1, 2, -1, 0.5], [2, 2]);
    F.mseLoss(F.linear(F.gelu(F.linear(x, w1)), w2), tensor([1, -1], [2, 1])).backward();
    for (const w of [w1, w2]) assert.ok(w.grad!.abs().sum().item() > 0);
  });
});

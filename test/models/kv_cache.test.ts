// KVStore: a step's keys/values taken off one cache and appended to another equal the cache that
// ran the step itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, manualSeed, liveTensors, noGrad, tensor, tidy } from '../../src/torch/index.js';
import { KVStore } from '../../src/models/kv_cache.js';

function filled(steps: number, B = 3): { store: KVStore; ks: ReturnType<typeof randn>[] } {
  const store = new KVStore();
  const ks: ReturnType<typeof randn>[] = [];
  for (let s = 0; s < steps; s++) {
    const k = randn([B, 2, 1, 4]);
    ks.push(k);
    noGrad(() => store.append(0, k, k.mul(2)));
    store.advance(1);
  }
  return { store, ks };
}

test('lastPosition + extend rebuild the cache that ran the step, row by row after gather', () => {
  const live0 = liveTensors();
  manualSeed(1);
  tidy(() => body());
  assert.equal(liveTensors(), live0, 'KVStore leaked tensors');
});

function body(): void {
  const { store: whole, ks } = filled(4);
  const { store: prefix } = filled(0);
  // The prefix: the first three steps of `whole`, appended one by one.
  for (let s = 0; s < 3; s++) {
    noGrad(() => prefix.append(0, ks[s]!, ks[s]!.mul(2)));
    prefix.advance(1);
  }
  const last = whole.lastPosition();
  assert.equal(last.length, 1);
  // Reversed rows through gather, then back: the identity permutation overall.
  const rev = KVStore.gather([last], tensor([2, 1, 0], [3], { dtype: 'int64' }));
  const back = KVStore.gather([rev], tensor([2, 1, 0], [3], { dtype: 'int64' }));
  prefix.extend(back);
  assert.equal(prefix.length, 4);
  const [pk, pv] = noGrad(() => prefix.append(0, ks[0]!.narrow(2, 0, 0), ks[0]!.narrow(2, 0, 0)));
  const [wk, wv] = noGrad(() => whole.append(0, ks[0]!.narrow(2, 0, 0), ks[0]!.narrow(2, 0, 0)));
  assert.deepEqual(pk.toNumbers(), wk.toNumbers());
  assert.deepEqual(pv.toNumbers(), wv.toNumbers());
  assert.throws(() => new KVStore().lastPosition(), /empty/);
  for (const x of [whole, prefix, last, rev, back]) x.dispose();
}

// Errors are JS exceptions with libtorch's own message; nothing aborts the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, randn, ids, tidy, F, setThreads, threads, cudaAvailable, type Tensor } from '../../src/torch/index.js';
import { native, type Handle } from '../../src/torch/native.js';
import { rng } from './helpers.js';

const describe = (v: unknown) => (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === null ? '<external>' : typeof v === 'bigint' ? `${v}n` : JSON.stringify(v) ?? String(v));
const stillWorks = () => tidy(() => assert.deepEqual(tensor([1, 2]).matmul(tensor([3, 4])).toNumbers(), [11]));

test('a shape mismatch in matmul is a JS Error carrying libtorch\'s message; later ops still work', () => {
  tidy(() => {
    assert.throws(() => randn([2, 8]).matmul(randn([3, 3])), (e: Error) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /mat1 and mat2 shapes cannot be multiplied \(2x8 and 3x3\)/);
      assert.doesNotMatch(e.message, /\.cpp|frame #/, 'no C++ backtrace in the message');
      return true;
    });
  });
  stillWorks();
  tidy(() => {
    assert.throws(() => randn([2, 3]).bmm(randn([2, 3])), /batch1 must be a 3D tensor/);
    assert.throws(() => randn([2, 3]).view([6, 2]), /shape '\[6, 2\]' is invalid for input of size 6/);
    assert.throws(() => randn([2, 3]).T.view([6]), /view size is not compatible/);
    assert.throws(() => randn([2, 3]).add(randn([4])), /must match the size/);
  });
  stillWorks();
});

test('wrong dtypes are reported with the expected types', () => {
  tidy(() => {
    assert.throws(() => F.embedding(randn([4, 2]), randn([3])), /'indices' to have one of the following scalar types: Long, Int/);
    assert.throws(() => randn([2, 2]).matmul(randn([2, 2], { dtype: 'float64' })), /expected scalar type Float but found Double/);
    assert.throws(() => F.crossEntropy(randn([2, 3]), randn([2])), /Float|Long|scalar type/);
    assert.throws(() => zeros([2], { dtype: 'float128' as never }), (e: Error) => e instanceof TypeError && /unknown dtype 'float128'.*float32/.test(e.message));
    assert.throws(() => tensor(new Uint16Array(2)), /ambiguous/);
  });
  stillWorks();
});

test('out-of-range indices and targets are errors, not memory corruption', () => {
  tidy(() => {
    assert.throws(() => F.embedding(randn([4, 2]), ids([7])), /index out of range/);
    assert.throws(() => randn([3]).indexSelect(0, ids([5])), /out of range|index/i);
    assert.throws(() => randn([2, 3]).gather(1, ids([[0], [9]])), /out of bounds|index/i);
    assert.throws(() => F.crossEntropy(randn([2, 3]), ids([0, 5])), /Target 5 is out of bounds/);
    assert.throws(() => randn([2]).select(0, 2), /out of range/);
  });
  stillWorks();
});

test('using a disposed tensor is a clear error, from JS and from the native side', () => {
  const t = randn([2]);
  const h = t.handle;
  t.dispose();
  assert.throws(() => t.add(1), /already disposed.*keep\(\)/);
  assert.throws(() => native.add(h, 1), /tensor was already disposed/);
  assert.throws(() => randn([2]).add(t), /already disposed/);
  stillWorks();
});

test('a non-tensor where a tensor handle is expected is a TypeError, not a crash', () => {
  const foreign = [undefined, null, 5, 'x', {}, [], Symbol('s'), 10n, () => 1, Buffer.alloc(8), new Float32Array(2)];
  for (const bad of foreign) {
    assert.throws(() => native.add(bad as unknown as Handle, 1), (e: Error) => e instanceof TypeError && /expected a tensor handle/.test(e.message), String(typeof bad));
    assert.throws(() => native.dispose(bad as unknown as Handle), TypeError);
  }
  tidy(() => {
    assert.throws(() => randn([2]).matmul({} as Tensor), TypeError);
    assert.throws(() => randn([2]).add('1' as unknown as number), TypeError);
    assert.throws(() => native.cat([randn([1]).handle, 3 as unknown as Handle], 0), /expected a tensor handle/);
    assert.throws(() => native.cat('nope' as unknown as Handle[], 0), /expected an array of tensors/);
  });
  stillWorks();
});

test('malformed shapes and arguments: TypeErrors for non-integers (no silent [Infinity] -> [0])', () => {
  for (const shape of [[Infinity], [NaN], [2.5], ['2'], [-1]]) {
    assert.throws(() => native.zeros(shape as number[], 0), Error, JSON.stringify(shape));
  }
  assert.throws(() => native.zeros([Infinity], 0), TypeError);
  assert.throws(() => native.zeros([2], 99), /unknown dtype code/);
  assert.throws(() => native.zeros([2], 0, 5 as unknown as string), /A string was expected/);
  assert.throws(() => native.fromBytes(new Uint8Array(8), 0, [2 ** 52, 2 ** 52]), /too large/);
  assert.throws(() => native.fromBytes(new Uint8Array(8), 0, [3]), /8 bytes but shape \[3\]/);
  assert.throws(() => (native.fromBytes as (...a: unknown[]) => unknown)(new Uint8Array(8), 0), /expected 3 arguments/);
  tidy(() => {
    assert.throws(() => randn([2]).item(), /exactly one element, got shape \[2\]/);
    assert.throws(() => F.mseLoss(randn([2]), randn([2]), 'avg' as never), /reduction must be 'mean', 'sum' or 'none'/);
    assert.throws(() => F.gelu(randn([2]), 'fast' as never), /approximate must be 'none' or 'tanh'/);
    assert.throws(() => randn([2]).sum().backward(), /does not require grad/);
    assert.throws(() => zeros([2], { device: 'gpu' }), /Expected one of cpu, cuda/);
  });
  stillWorks();
});

test('cuda when unavailable: a clear message that names LIBTORCH', { skip: cudaAvailable() ? 'CUDA is available here' : false }, () => {
  for (const f of [() => zeros([2], { device: 'cuda' }), () => tidy(() => randn([2]).to('cuda')), () => tidy(() => randn([2]).to('float16', 'cuda:0'))]) {
    assert.throws(f, (e: Error) => /device 'cuda(:0)?' requested/.test(e.message) && /LIBTORCH/.test(e.message) && /'cpu'/.test(e.message));
  }
  stillWorks();
});

test('thread settings reject nonsense', () => {
  const before = threads();
  assert.throws(() => setThreads({ intraOp: 0 }), /positive number of threads/);
  assert.deepEqual(threads(), before);
});

test('every native entry point survives garbage arguments (seeded fuzz): returns or throws an Error', () => {
  // Functions that change process-wide state are left out; the rest get random argument lists.
  const skip = new Set(['setNumThreads', 'setBlasThreads', 'setGradEnabled', 'manualSeed', 'dispose', 'generatorSeed']);
  const names = Object.keys(native).filter((k) => typeof (native as unknown as Record<string, unknown>)[k] === 'function' && !skip.has(k));
  assert.ok(names.length > 100, `${names.length} entry points`);
  const r = rng(2024);
  const live = () => [randn([2, 3]).handle, randn([3]).handle, ids([0, 1]).handle, tensor([true, false]).handle];
  const dead = (() => { const t = randn([1]); const h = t.handle; t.dispose(); return h; })();
  let calls = 0, threw = 0;
  for (const name of names) {
    const fn = (native as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
    for (let i = 0; i < 25; i++) {
      tidy(() => {
        const hs = live();
        const pool: unknown[] = [undefined, null, 0, 1, -1, 2, 2.5, NaN, 'x', 'none', 'cpu', true, {}, [], [1, 2], [2, 3], [hs[0], hs[1]], hs[0], hs[1], hs[2], hs[3], dead, 10n, new Uint8Array(4)];
        const args = Array.from({ length: 1 + Math.floor(r() * 5) }, () => pool[Math.floor(r() * pool.length)]);
        calls++;
        try {
          const out = fn(...args);
          // results that are tensor handles must be usable and disposable
          const outs = Array.isArray(out) ? out : [out];
          for (const o of outs) if (o && typeof o === 'object' && !Array.isArray(o) && !(o instanceof ArrayBuffer) && !ArrayBuffer.isView(o)) {
            try { native.shape(o as Handle); native.dispose(o as Handle); } catch (e) { assert.ok(e instanceof TypeError, `${name}: ${(e as Error).message}`); }
          }
        } catch (e) {
          threw++;
          if (!(e instanceof Error)) assert.fail(`${name}(${args.map(describe).join(', ')}) threw a non-Error`);
          assert.ok(e.message.length > 0, `${name}: empty message`);
        } finally {
          for (const h of hs) native.dispose(h);
        }
      });
    }
  }
  assert.ok(threw > calls / 3, `most garbage calls should be rejected (${threw}/${calls})`);
  native.setGradEnabled(true);
  stillWorks();
});

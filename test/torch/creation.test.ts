// Creation, host round trips and dtype conversions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor, ids, fromBytes, zeros, ones, full, empty, arange, randn, rand, randint, randperm, zerosLike, onesLike,
  manualSeed, tidy, type DType, Generator,
} from '../../src/torch/index.js';
import { assertAllClose, uniform } from './helpers.js';

test('tensor() / data() round trip for every dtype, with the matching typed array', () => {
  tidy(() => {
    const cases: [DType, ArrayLike<number | bigint>, string][] = [
      ['float32', new Float32Array([1.5, -2.25, 3.125e-3, 1e30]), 'Float32Array'],
      ['float64', new Float64Array([Math.PI, -1e-300, 1e300, 0.1]), 'Float64Array'],
      ['int64', new BigInt64Array([0n, -1n, 2n ** 62n, -(2n ** 63n)]), 'BigInt64Array'],
      ['int32', new Int32Array([0, -1, 2 ** 31 - 1, -(2 ** 31)]), 'Int32Array'],
      ['int8', new Int8Array([0, -128, 127, 5]), 'Int8Array'],
      ['uint8', new Uint8Array([0, 255, 128, 7]), 'Uint8Array'],
      ['float16', new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]), 'Uint16Array'],
      ['bfloat16', new Uint16Array([0x3f80, 0xc000, 0x7f7f, 0x0001]), 'Uint16Array'],
    ];
    for (const [dtype, data, kind] of cases) {
      const t = tensor(data as never, [2, 2], { dtype });
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.shape, [2, 2]);
      const back = t.data();
      assert.equal(back.constructor.name, kind, dtype);
      assert.deepEqual(Array.from(back as ArrayLike<unknown>), Array.from(data as ArrayLike<unknown>), dtype);
    }
    const b = tensor([true, false, true]);
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(Array.from(b.data() as Uint8Array), [1, 0, 1]);
  });
});

test('number arrays: float32 by default, int64 through BigInt, exact integers up to 2^53', () => {
  tidy(() => {
    assert.equal(tensor([1, 2]).dtype, 'float32');
    const big = tensor([2 ** 53 - 1, -(2 ** 53) + 1, 50256], undefined, { dtype: 'int64' });
    assert.deepEqual(big.toNumbers(), [2 ** 53 - 1, -(2 ** 53) + 1, 50256]);
    assert.deepEqual(ids([[1, 2], [3, 4]]).shape, [2, 2]);
    assert.equal(ids([5]).dtype, 'int64');
    assert.throws(() => ids([[1, 2], [3]]), /different lengths/);
    assert.deepEqual(tensor([3.7, -3.7], undefined, { dtype: 'int32' }).toNumbers(), [3, -3]);
    assert.deepEqual(tensor([7], []).shape, []); // a scalar
    assert.equal(tensor([7], []).item(), 7);
  });
});

test('bool tensors from numbers hold only 0/1 bytes (a 2 would be undefined behaviour in kernels)', () => {
  tidy(() => {
    const b = tensor([2, 0, -1, 0.5, NaN], undefined, { dtype: 'bool' });
    assert.deepEqual(Array.from(b.data() as Uint8Array), [1, 0, 1, 1, 0]);
    assert.equal(b.sum().item(), 3);
    assert.deepEqual(b.logicalNot().toNumbers(), [0, 1, 0, 0, 1]);
    const fromBytesArr = tensor(new Uint8Array([0, 7, 1]), undefined, { dtype: 'bool' });
    assert.deepEqual(Array.from(fromBytesArr.data() as Uint8Array), [0, 1, 1]);
  });
});

test('a typed array with another dtype is converted by value, never reinterpreted', () => {
  tidy(() => {
    const a = tensor(new Float32Array([1, 2, 3, 4]), [4], { dtype: 'float64' });
    assert.equal(a.dtype, 'float64');
    assert.deepEqual(a.toNumbers(), [1, 2, 3, 4]);
    assert.deepEqual(tensor(new Int32Array([7, -8]), undefined, { dtype: 'int64' }).toNumbers(), [7, -8]);
    assert.deepEqual(tensor(new Float64Array([2.9, -2.9]), undefined, { dtype: 'int32' }).toNumbers(), [2, -2]);
    const h = tensor(new Float32Array([1, -2]), undefined, { dtype: 'float16' });
    assert.deepEqual(Array.from(h.data() as Uint16Array), [0x3c00, 0xc000]);
    assert.deepEqual(tensor([1, -2], undefined, { dtype: 'bfloat16' }).toNumbers(), [1, -2]);
    assert.throws(() => tensor(new Uint16Array([1])), /ambiguous/);
  });
});

test('float32 -> float16 / bfloat16 -> float32 round trips stay within half a unit in the last place', () => {
  tidy(() => {
    const vals = uniform(2000, 1, -100, 100).concat([1e-3, -65000, 0.1, 1 / 3]);
    const x = tensor(vals);
    for (const [dt, bits] of [['float16', 10], ['bfloat16', 7]] as const) {
      const back = x.to(dt).to('float32').toNumbers();
      const xs = x.toNumbers();
      let worst = 0;
      for (let i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(back[i]! - xs[i]!) / Math.abs(xs[i]!));
      assert.ok(worst <= 2 ** -(bits + 1) * 1.0001, `${dt}: relative error ${worst}`);
      assert.ok(worst > 2 ** -(bits + 4), `${dt}: rounding should be visible (got ${worst})`);
    }
    // the exact bit patterns of known values
    assert.deepEqual(Array.from(tensor([1, -2, 0.5]).to('float16').data() as Uint16Array), [0x3c00, 0xc000, 0x3800]);
    assert.deepEqual(Array.from(tensor([1, -2, 0.5]).to('bfloat16').data() as Uint16Array), [0x3f80, 0xc000, 0x3f00]);
    // float16 overflows to infinity; bfloat16 keeps float32's range
    assert.equal(tensor([70000]).to('float16').toNumbers()[0], Infinity);
    assertAllClose(tensor([1e30]).to('bfloat16').toNumbers(), [1e30], { rtol: 2 ** -8 });
  });
});

test('dtype conversions: float -> int truncates toward zero, to bool tests non-zero, int64 ids survive float64', () => {
  tidy(() => {
    assert.deepEqual(tensor([2.7, -2.7, 0.2]).to('int64').toNumbers(), [2, -2, 0]);
    assert.deepEqual(tensor([0, 0.5, -3]).to('bool').toNumbers(), [0, 1, 1]);
    assert.deepEqual(tensor([true, false]).to('float32').toNumbers(), [1, 0]);
    const i = ids([123456789012, 3]);
    assert.deepEqual(i.to('float64').to('int64').toNumbers(), [123456789012, 3]);
    assert.equal(i.long().dtype, 'int64');
    assert.equal(i.float().dtype, 'float32');
    assert.equal(i.to('cpu').device, 'cpu');
    assert.equal(tensor([1]).to('float64', 'cpu').dtype, 'float64');
  });
});

test('fromBytes reads raw little-endian bytes from any view (offsets respected)', () => {
  tidy(() => {
    const buf = Buffer.alloc(12);
    buf.writeFloatLE(1.5, 4);
    buf.writeFloatLE(-3, 8);
    const t = fromBytes(buf.subarray(4), 'float32', [2]);
    assert.deepEqual(t.toNumbers(), [1.5, -3]);
    assert.throws(() => fromBytes(buf, 'float32', [2]), /12 bytes .* needs 8/);
  });
});

test('factories: zeros, ones, full, empty, *Like, arange dtype rules', () => {
  tidy(() => {
    assert.deepEqual(zeros([2, 2]).toNumbers(), [0, 0, 0, 0]);
    assert.deepEqual(ones([3], { dtype: 'int32' }).toNumbers(), [1, 1, 1]);
    assert.equal(ones([3], { dtype: 'int32' }).dtype, 'int32');
    assert.deepEqual(full([2], 2.5).toNumbers(), [2.5, 2.5]);
    assert.deepEqual(full([2], true, { dtype: 'bool' }).toNumbers(), [1, 1]);
    assert.deepEqual(empty([0, 3]).shape, [0, 3]);
    assert.equal(empty([0, 3]).numel, 0);
    const x = randn([2, 3], { dtype: 'float64' });
    assert.deepEqual(zerosLike(x).shape, [2, 3]);
    assert.equal(onesLike(x).dtype, 'float64');
    assert.deepEqual(arange(4).toNumbers(), [0, 1, 2, 3]);
    assert.equal(arange(4).dtype, 'int64');
    assert.deepEqual(arange(2, 8, 3).toNumbers(), [2, 5]);
    // like torch.arange: a fractional bound or step gives floats instead of a zero step
    assert.equal(arange(0, 1, 0.25).dtype, 'float32');
    assert.deepEqual(arange(0, 1, 0.25).toNumbers(), [0, 0.25, 0.5, 0.75]);
    assert.deepEqual(arange(3, undefined, 1, { dtype: 'float64' }).toNumbers(), [0, 1, 2]);
  });
});

test('random factories: seeding reproduces, ranges hold, randperm is a permutation', () => {
  tidy(() => {
    manualSeed(123);
    const a = randn([100]).toNumbers();
    manualSeed(123);
    const b = randn([100]).toNumbers();
    assert.deepEqual(a, b);
    const c = randn([100]).toNumbers();
    assert.notDeepEqual(a, c);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    assert.ok(Math.abs(mean) < 0.5, `randn mean ${mean}`);
    const u = rand([1000]).toNumbers();
    assert.ok(u.every((x) => x >= 0 && x < 1));
    const r = randint(3, 7, [1000]).toNumbers();
    assert.ok(r.every((x) => x >= 3 && x < 7 && Number.isInteger(x)));
    assert.deepEqual(new Set(r).size, 4);
    assert.deepEqual([...randperm(10).toNumbers()].sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

test('metadata: shape, ndim, numel, size(-1), toString; shape errors are RangeErrors', () => {
  tidy(() => {
    const t = zeros([2, 3, 4]);
    assert.equal(t.ndim, 3);
    assert.equal(t.numel, 24);
    assert.equal(t.size(-1), 4);
    assert.equal(t.size(0), 2);
    assert.throws(() => t.size(3), RangeError);
    assert.match(t.toString(), /shape=\[2, 3, 4\], dtype=float32, device=cpu/);
    assert.equal(t.isContiguous, true);
    assert.equal(t.transpose(0, 1).isContiguous, false);
  });
});

test('dataView aliases tensor memory: writes through the Buffer show up in the tensor', () => {
  tidy(() => {
    const t = zeros([3]);
    const view = t.dataView();
    assert.equal(view.length, 12);
    view.writeFloatLE(4.5, 4);
    assert.deepEqual(t.toNumbers(), [0, 4.5, 0]);
    assert.throws(() => t.reshape([3, 1]).expand([3, 2]).dataView(), /contiguous CPU tensor/);
  });
});

test('Generator: an independent seeded stream, unaffected by the global seed; reseed restarts it', () => {
  tidy(() => {
    const a = new Generator(7), b = new Generator(7);
    const x = a.randn([50]).toNumbers();
    manualSeed(999);
    randn([10]);
    assert.deepEqual(b.randn([50]).toNumbers(), x, 'same seed, same stream, whatever the global generator did');
    assert.notDeepEqual(a.randn([50]).toNumbers(), x, 'the stream advances');
    a.reseed(7);
    assert.deepEqual(a.randn([50]).toNumbers(), x);
    assert.equal(a.randn([2], 'float64').dtype, 'float64');
    assert.ok(new Generator(1).rand([200]).toNumbers().every((v) => v >= 0 && v < 1));
    assert.deepEqual([...new Generator(3).randperm(6).toNumbers()].sort(), [0, 1, 2, 3, 4, 5]);
    assert.notDeepEqual(new Generator(1).randn([20]).toNumbers(), new Generator(2).randn([20]).toNumbers());
  });
});

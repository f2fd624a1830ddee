import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import * as torch from '../../src/torch/index.js';
import {
  FLOAT_WIRE_DTYPES,
  ProtocolError,
  crc32,
  decodeFrame,
  encodeFrame,
  isFrame,
  tensorToWire,
  wireToTensor,
  type FrameLimits,
  type ProtocolErrorCode,
} from '../../src/split/protocol/index.js';
import { ALL_TYPES, dataOf, headerOf, rawFrame, sample } from './protocol_helpers.js';

function expectCode(fn: () => unknown, code: ProtocolErrorCode): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtocolError, `expected ProtocolError, got ${String(e)}`);
    assert.equal(e.code, code, `expected code ${code}, got ${e.code} (${e.message})`);
    return true;
  });
}
const decodeExpect = (buf: Uint8Array, code: ProtocolErrorCode, limits?: Partial<FrameLimits>) => expectCode(() => decodeFrame(buf, limits), code);

/** Re-assembles a frame after editing its header (and optionally its data). */
function edit(frame: Buffer, f: (h: ReturnType<typeof headerOf>) => void, data?: Uint8Array): Buffer {
  const h = headerOf(frame);
  f(h);
  return rawFrame(h, data ?? dataOf(frame));
}

test('CRC-32 matches the standard check value and zlib', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const buf = new Uint8Array(10_007).map((_, i) => (i * 7919 + (i >> 3)) & 0xff);
  assert.equal(crc32(buf.subarray(5000), crc32(buf.subarray(0, 5000))), crc32(buf), 'incremental = whole');
  const z = (zlib as { crc32?: (b: Uint8Array) => number }).crc32;
  if (z) for (const len of [1, 7, 8, 9, 63, 64, 65, 10_007]) assert.equal(crc32(buf.subarray(0, len)), z(buf.subarray(0, len)), `length ${len}`);
});

test('every message type round-trips with tensors of every float wire dtype', () => {
  const before = torch.liveTensors();
  for (const dtype of FLOAT_WIRE_DTYPES) {
    for (const type of ALL_TYPES) {
      const s = sample(type, dtype);
      const buf = encodeFrame(s.msg, s.tensors);
      const f = decodeFrame(buf);
      assert.deepEqual(f.msg, s.msg, `${type}/${dtype} header`);
      assert.equal(f.byteLength, buf.length);
      const got = f.tensors as Record<string, { dtype: string; shape: readonly number[]; bytes: Uint8Array }>;
      assert.deepEqual(Object.keys(got).sort(), Object.keys(s.tensors).sort(), `${type} tensor names`);
      for (const [name, w] of Object.entries(s.tensors)) {
        assert.equal(got[name]!.dtype, w.dtype);
        assert.deepEqual([...got[name]!.shape], [...w.shape]);
        assert.ok(Buffer.from(got[name]!.bytes).equals(Buffer.from(w.bytes)), `${type}.${name} bytes`);
      }
    }
  }
  assert.equal(torch.liveTensors(), before, 'no tensor leaked');
});

test('libtorch tensors go in and come out unchanged (float32, int64, bool, uint8)', () => {
  torch.tidy(() => {
    const hidden = torch.randn([2, 5, 8]);
    const mask = torch.tensor([1, 1, 0, 1, 0, 1, 1, 1, 1, 0], [2, 5], { dtype: 'bool' });
    const f = decodeFrame(encodeFrame({ type: 'forward', session: 'a', step: 1, seq: 0, phase: 'eval' }, { hidden, attention_mask: mask }));
    assert.ok(isFrame(f, 'forward'));
    const h2 = wireToTensor(f.tensors.hidden);
    assert.equal(h2.dtype, 'float32');
    assert.ok(h2.sub(hidden).abs().max().item() === 0);
    const m2 = wireToTensor(f.tensors.attention_mask!);
    assert.deepEqual(m2.toNumbers(), mask.toNumbers());
    const labels = torch.ids([[5, -100, 2 ** 40], [0, 1, 2]]);
    const g = decodeFrame(encodeFrame({ type: 'labels', session: 'a', step: 1, seq: 1, ignoreIndex: -100 }, { labels }));
    assert.ok(isFrame(g, 'labels'));
    assert.deepEqual(wireToTensor(g.tensors.labels).toNumbers(), [5, -100, 2 ** 40, 0, 1, 2]);
  });
});

test('float16 / bfloat16 quantisation error is within half an ulp (measured)', (t) => {
  // Round-to-nearest: relative error <= u = 2^-p (p = 11 significant bits for float16, 8 for bfloat16);
  // float16 subnormals (|x| < 2^-14) have absolute error <= 2^-25.
  const bound = { float16: 2 ** -11, bfloat16: 2 ** -8 } as const;
  for (const scale of [1, 40]) {
    for (const dtype of ['float16', 'bfloat16'] as const) {
      torch.tidy(() => {
        const x = torch.randn([16, 64, 96]).mul(scale);
        const f = decodeFrame(encodeFrame({ type: 'forward', session: 's', step: 0, seq: 0, phase: 'train' }, { hidden: tensorToWire(x, dtype) }));
        assert.ok(isFrame(f, 'forward'));
        assert.equal(f.tensors.hidden.dtype, dtype);
        const y = wireToTensor(f.tensors.hidden, 'float32');
        const err = y.sub(x).abs();
        const normal = x.abs().ge(2 ** -14);
        const rel = err.maskedSelect(normal).div(x.abs().maskedSelect(normal));
        const maxRel = rel.max().item();
        const meanRel = rel.mean().item();
        const rmsRel = y.sub(x).norm().item() / x.norm().item();
        const subErr = err.maskedSelect(normal.logicalNot());
        const maxSubAbs = subErr.numel ? subErr.max().item() : 0;
        t.diagnostic(`${dtype} scale ${scale}: max rel ${maxRel.toExponential(3)}, mean rel ${meanRel.toExponential(3)}, ‖Δ‖/‖x‖ ${rmsRel.toExponential(3)} (bound ${bound[dtype].toExponential(3)})`);
        assert.ok(maxRel <= bound[dtype], `${dtype} max relative error ${maxRel} > ${bound[dtype]}`);
        assert.ok(maxRel > bound[dtype] / 4, `${dtype} error ${maxRel} suspiciously small: was the tensor converted at all?`);
        if (dtype === 'float16') assert.ok(maxSubAbs <= 2 ** -25, `float16 subnormal error ${maxSubAbs}`);
        // Half the payload of float32.
        assert.equal(f.tensors.hidden.bytes.byteLength, x.numel * 2);
      });
    }
  }
});

test('float16 overflow is refused on encode instead of sending infinities', () => {
  torch.tidy(() => {
    const x = torch.tensor([1, 70000, -3], [1, 1, 3]);
    expectCode(() => tensorToWire(x, 'float16'), 'bad_value');
    assert.equal(tensorToWire(x, 'bfloat16').dtype, 'bfloat16');
  });
});

test('truncated frames', () => {
  const buf = encodeFrame(sample('forward').msg, sample('forward').tensors);
  const headerEnd = 9 + buf.readUInt32LE(5);
  for (const cut of [0, 2, 4, 5, 8, 9, 20, headerEnd - 1, headerEnd, headerEnd + 5, buf.length - 1]) {
    decodeExpect(buf.subarray(0, cut), 'truncated');
  }
});

test('bad magic, unsupported version, trailing bytes', () => {
  const s = sample('gradient');
  const buf = encodeFrame(s.msg, s.tensors);
  const bad = Buffer.from(buf);
  bad.write('RVLX', 0, 'latin1');
  decodeExpect(bad, 'bad_magic');
  decodeExpect(Buffer.from('GET / HTTP/1.1\r\n'), 'bad_magic');
  for (const v of [0, 2, 255]) {
    const w = Buffer.from(buf);
    w.writeUInt8(v, 4);
    decodeExpect(w, 'unsupported_version');
  }
  decodeExpect(Buffer.concat([buf, Buffer.from([0])]), 'trailing_bytes');
});

test('header that is not UTF-8 JSON', () => {
  decodeExpect(rawFrame('{"type":"bye",'), 'header_json');
  decodeExpect(rawFrame(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1')), 'header_json');
  const invalidUtf8 = rawFrame('{}');
  invalidUtf8[9] = 0xc3; // lone lead byte
  decodeExpect(invalidUtf8, 'header_json');
});

test('schema violations', () => {
  const fwd = sample('forward');
  const buf = encodeFrame(fwd.msg, fwd.tensors);
  decodeExpect(edit(buf, (h) => delete h.phase), 'schema');
  decodeExpect(edit(buf, (h) => (h.phase = 'infer')), 'schema');
  decodeExpect(edit(buf, (h) => (h.step = -1)), 'schema');
  decodeExpect(edit(buf, (h) => (h.seq = 1.5)), 'schema');
  decodeExpect(edit(buf, (h) => (h.extra = 1)), 'schema');
  decodeExpect(edit(buf, (h) => (h.session = 'has space')), 'schema');
  decodeExpect(edit(buf, (h) => ((h.tensors[0] as Record<string, unknown>).extra = 1)), 'schema');
  decodeExpect(edit(buf, (h) => ((h.tensors[0] as Record<string, unknown>).checksum = -1)), 'schema');
  decodeExpect(edit(buf, (h) => ((h as Record<string, unknown>).tensors = {})), 'schema');
  decodeExpect(rawFrame([1, 2, 3]), 'schema');
  decodeExpect(rawFrame('null'), 'schema');
  decodeExpect(rawFrame({ session: '', step: 0, seq: 0, tensors: [] }), 'schema');
  // a missing required tensor, an unexpected one, a duplicated one
  decodeExpect(edit(buf, (h) => h.tensors.splice(0, 1), dataOf(buf).subarray(2 * 3 * 4 * 4)), 'schema');
  decodeExpect(edit(buf, (h) => ((h.tensors[1] as Record<string, unknown>).name = 'secret_extra')), 'schema');
  decodeExpect(edit(buf, (h) => ((h.tensors[1] as Record<string, unknown>).name = 'hidden')), 'schema');
  const gen = sample('generate_step');
  const g = encodeFrame(gen.msg, gen.tensors);
  decodeExpect(edit(g, (h) => (h.reset = true)), 'schema');
  const hello = sample('hello');
  const hb = encodeFrame(hello.msg);
  decodeExpect(edit(hb, (h) => (h.wireDtype = 'int64')), 'schema');
  decodeExpect(edit(hb, (h) => (h.deviceId = '')), 'schema');
  // the encoder refuses what the decoder would refuse
  expectCode(() => encodeFrame({ ...fwd.msg, phase: 'infer' } as never, fwd.tensors), 'schema');
  expectCode(() => encodeFrame(sample('gradient').msg, {}), 'schema');
  expectCode(() => encodeFrame(sample('bye').msg, { hidden: fwd.tensors.hidden }), 'schema');
});

test('unknown message type', () => {
  decodeExpect(rawFrame({ type: 'teleport', session: '', step: 0, seq: 0, tensors: [] }), 'unknown_type');
  decodeExpect(rawFrame({ type: '__proto__', session: '', step: 0, seq: 0, tensors: [] }), 'unknown_type');
  decodeExpect(rawFrame({ type: 'toString', session: '', step: 0, seq: 0, tensors: [] }), 'unknown_type');
  expectCode(() => encodeFrame({ type: 'teleport', session: '', step: 0, seq: 0 } as never), 'unknown_type');
});

test('wrong dtype for a message', () => {
  const lab = sample('labels');
  const lb = encodeFrame(lab.msg, lab.tensors);
  // labels sent as float32 (a wire dtype, consistent byte count): the labels rule wants int64
  decodeExpect(edit(lb, (h) => Object.assign(h.tensors[0]!, { dtype: 'float32', byteLength: 2 * 3 * 4 }), dataOf(lb).subarray(0, 24)), 'dtype');
  decodeExpect(edit(lb, (h) => (h.tensors[0]!.dtype = 'complex64')), 'dtype');
  decodeExpect(edit(lb, (h) => (h.tensors[0]!.dtype = 'float64')), 'dtype');
  const fwd = sample('forward');
  const fb = encodeFrame(fwd.msg, fwd.tensors);
  // hidden as uint8 with a consistent byte count: the per-message rule refuses it
  decodeExpect(
    edit(fb, (h) => Object.assign(h.tensors[0]!, { dtype: 'uint8', byteLength: 24 }), Buffer.concat([dataOf(fb).subarray(0, 24), dataOf(fb).subarray(96)])),
    'dtype',
  );
  torch.tidy(() => {
    expectCode(() => encodeFrame(fwd.msg, { hidden: torch.randint(0, 5, [2, 3, 4]) }), 'dtype');
    expectCode(() => encodeFrame(fwd.msg, { hidden: torch.randn([2, 3, 4]), attention_mask: torch.ones([2, 3]) }), 'dtype');
    expectCode(() => encodeFrame(lab.msg, { labels: torch.randn([2, 3]) }), 'dtype');
    expectCode(() => tensorToWire(torch.randn([2]).to('float64')), 'dtype');
  });
});

test('shape / byteLength mismatches', () => {
  const fwd = sample('forward');
  const fb = encodeFrame(fwd.msg, fwd.tensors);
  decodeExpect(edit(fb, (h) => (h.tensors[0]!.byteLength = 95)), 'shape');
  decodeExpect(edit(fb, (h) => (h.tensors[0]!.shape = [2, 3, 5])), 'shape');
  // rank fixed per message: hidden [6, 4] has the right byte count but rank 2
  decodeExpect(edit(fb, (h) => (h.tensors[0]!.shape = [6, 4])), 'shape');
  // mask [2, 3] must match hidden [B, T]
  decodeExpect(edit(fb, (h) => {
    h.tensors[0]!.shape = [3, 2, 4];
  }), 'shape');
  const gen = sample('generate_step');
  const gb = encodeFrame(gen.msg, gen.tensors);
  decodeExpect(edit(gb, (h) => (h.positionOffset = 4)), 'shape');
  torch.tidy(() => {
    expectCode(() => encodeFrame(fwd.msg, { hidden: { dtype: 'float32', shape: [2, 3, 4], bytes: new Uint8Array(10) } }), 'shape');
    expectCode(() => encodeFrame(fwd.msg, { hidden: torch.randn([2, 3, 4]), attention_mask: torch.ones([2, 4], { dtype: 'bool' }) }), 'shape');
  });
});

test('checksum mismatches and invalid booleans', () => {
  const fwd = sample('forward');
  const fb = encodeFrame(fwd.msg, fwd.tensors);
  const flipped = Buffer.from(fb);
  flipped[flipped.length - 30]! ^= 0x10;
  decodeExpect(flipped, 'checksum');
  decodeExpect(edit(fb, (h) => (h.tensors[1]!.checksum = ((h.tensors[1]!.checksum as number) + 1) >>> 0)), 'checksum');
  // a bool byte of 2 with a correct checksum is still refused: libtorch bools must be 0 or 1
  const data = Buffer.from(dataOf(fb));
  data[data.length - 1] = 2;
  decodeExpect(edit(fb, (h) => (h.tensors[1]!.checksum = crc32(data.subarray(96))), data), 'bad_value');
});

test('limits: frame, header, rank, elements, tensors per frame', () => {
  const fwd = sample('forward');
  const fb = encodeFrame(fwd.msg, fwd.tensors);
  decodeExpect(fb, 'too_large', { maxFrameBytes: fb.length - 1 });
  assert.equal(decodeFrame(fb, { maxFrameBytes: fb.length }).byteLength, fb.length);
  decodeExpect(fb, 'too_large', { maxHeaderBytes: 64 });
  decodeExpect(fb, 'too_large', { maxRank: 2 });
  decodeExpect(fb, 'too_large', { maxElements: 23 });
  assert.ok(decodeFrame(fb, { maxElements: 24 }));
  decodeExpect(fb, 'too_large', { maxTensors: 1 });
  expectCode(() => encodeFrame(fwd.msg, fwd.tensors, { maxFrameBytes: 100 }), 'too_large');
  expectCode(() => encodeFrame(fwd.msg, fwd.tensors, { maxTensors: 1 }), 'too_large');
  // huge claimed header length, rank and element counts are refused before any use
  decodeExpect(rawFrame('{}', new Uint8Array(0), { headerLength: 0xffffffff }), 'too_large');
  decodeExpect(edit(fb, (h) => (h.tensors[0]!.shape = new Array(1000).fill(1))), 'too_large');
  decodeExpect(edit(fb, (h) => (h.tensors[0]!.shape = [2 ** 40, 2 ** 40, 2 ** 40])), 'too_large');
  decodeExpect(edit(fb, (h) => (h.tensors = new Array(17).fill(h.tensors[0]))), 'too_large');
});

test('a frame claiming a huge tensor allocates nothing proportional to the claim', () => {
  const fwd = sample('forward');
  const fb = encodeFrame(fwd.msg, fwd.tensors);
  // 512 MiB claimed (within generous limits), 96 bytes present
  const claim = edit(fb, (h) => {
    h.tensors = [{ ...h.tensors[0]!, shape: [8, 4096, 4096], byteLength: 8 * 4096 * 4096 * 4 }];
  }, dataOf(fb).subarray(0, 96));
  const limits = { maxFrameBytes: 2 ** 31, maxElements: 2 ** 28 };
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 20; i++) decodeExpect(claim, 'truncated', limits);
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 16 * 1024 * 1024, `decoding grew ArrayBuffer memory by ${grown} bytes`);
});

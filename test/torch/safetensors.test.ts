// safetensors: round trips, lazy files, sharded checkpoints, atomic saves, malformed inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PathEscapeError } from '../../src/util/contained.js';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Tensor, type DType, tensor, ids, zeros, randn, tidy, liveTensors, dispose,
  serializeSafetensors, parseSafetensors, saveSafetensors, loadSafetensors, SafetensorsFile, SafetensorsCheckpoint,
  SafetensorsError, MAX_HEADER_BYTES,
} from '../../src/torch/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'revertlm-st-'));

/** A file from a header object and raw data, following the format byte for byte. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerLength?: bigint): Buffer {
  const json = Buffer.isBuffer(header) ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLength ?? BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

function sample(): Map<string, Tensor> {
  return new Map<string, Tensor>([
    ['f32', tensor([1.5, -2, 3.25, 1e-20], [2, 2])],
    ['f64', tensor([Math.PI, -Math.E], undefined, { dtype: 'float64' })],
    ['f16', tensor([0.5, -1, 65504], undefined, { dtype: 'float16' })],
    ['bf16', tensor([1, 3e38], undefined, { dtype: 'bfloat16' })],
    ['i64', ids([[0, 50256], [-1, 2 ** 40]])],
    ['i32', tensor([-7, 7], undefined, { dtype: 'int32' })],
    ['i8', tensor([-128, 127], undefined, { dtype: 'int8' })],
    ['u8', tensor([0, 255], undefined, { dtype: 'uint8' })],
    ['bool', tensor([true, false, true])],
    ['scalar', tensor([42], [])],
    ['empty', zeros([0, 3])],
  ]);
}

function assertSameTensors(a: Map<string, Tensor>, b: Map<string, Tensor>): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of a) {
    const u = b.get(k)!;
    assert.equal(u.dtype, t.dtype, k);
    assert.deepEqual(u.shape, t.shape, k);
    assert.deepEqual(Buffer.from(u.data().buffer), Buffer.from(t.data().buffer), `${k} bytes`);
  }
}

test('in-memory round trip of every dtype, scalars, empty tensors and metadata', () => {
  tidy(() => {
    const ts = sample();
    const buf = serializeSafetensors(ts, { format: 'pt', note: 'ünïcode ✓' });
    const headerLen = Number(buf.readBigUInt64LE(0));
    assert.equal(headerLen % 8, 0, 'header padded to 8 bytes');
    const back = parseSafetensors(buf);
    assertSameTensors(ts, back.tensors);
    assert.deepEqual(back.metadata, { format: 'pt', note: 'ünïcode ✓' });
    assert.deepEqual(parseSafetensors(serializeSafetensors(new Map())).tensors.size, 0);
    dispose(back.tensors);
  });
});

test('a hand-built file (spec layout, unsorted names, no padding) loads', () => {
  tidy(() => {
    const data = Buffer.alloc(4 * 3 + 8);
    [1, 2, 3].forEach((v, i) => data.writeFloatLE(v, i * 4));
    data.writeBigInt64LE(-5n, 12);
    const buf = rawFile({ z: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, a: { dtype: 'I64', shape: [1, 1], data_offsets: [12, 20] } }, data);
    const { tensors, metadata } = parseSafetensors(buf);
    assert.deepEqual(tensors.get('z')!.toNumbers(), [1, 2, 3]);
    assert.deepEqual(tensors.get('a')!.toNumbers(), [-5]);
    assert.deepEqual(tensors.get('a')!.shape, [1, 1]);
    assert.deepEqual(metadata, {});
    dispose(tensors);
  });
});

test('serialization does not leak tensors; integer-like names and empty tensors sharing offsets load back', () => {
  tidy(() => {
    const before = liveTensors();
    const m = new Map([['1', zeros([4])], ['10', zeros([0])], ['2', zeros([4])], ['3', zeros([0, 2])]]);
    const buf = serializeSafetensors(m);
    assert.equal(liveTensors(), before + 4, 'serialize creates no tensors');
    const back = parseSafetensors(buf);
    assertSameTensors(m, back.tensors);
  });
});

test('files: save / load / lazy SafetensorsFile with selective reads and float32 conversion', () => {
  const dir = tmp();
  try {
    tidy(() => {
      const path = join(dir, 'w.safetensors');
      const ts = sample();
      saveSafetensors(path, ts, { step: '3' });
      assertSameTensors(ts, loadSafetensors(path));
      const sub = loadSafetensors(path, { filter: (n) => n.startsWith('f') });
      assert.deepEqual([...sub.keys()].sort(), ['f16', 'f32', 'f64']);
      const f = SafetensorsFile.open(path);
      try {
        assert.equal(f.keys().length, ts.size);
        assert.deepEqual(f.metadata, { step: '3' });
        assert.deepEqual(f.info('f16'), { dtype: 'float16', shape: [3], begin: f.info('f16')!.begin, end: f.info('f16')!.begin + 6 });
        const h = f.get('f16', { toFloat32: true });
        assert.equal(h.dtype, 'float32');
        assert.deepEqual(h.toNumbers(), [0.5, -1, 65504]);
        assert.equal(f.get('i64', { toFloat32: true }).dtype, 'int64', 'integers are not converted');
        assert.throws(() => f.get('nope'), (e: Error) => e instanceof SafetensorsError && /no tensor named 'nope'/.test(e.message));
        assert.throws(() => f.get('f32', { device: 'cuda' }), /LIBTORCH/);
      } finally {
        f.close();
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('atomic save: replaces the old file whole, leaves no temporary, and a failed save keeps the old file', () => {
  const dir = tmp();
  try {
    const path = join(dir, 'model.safetensors');
    tidy(() => {
      saveSafetensors(path, new Map([['a', zeros([2])]]));
      const old = readFileSync(path);
      saveSafetensors(path, new Map([['b', randn([3])]]));
      assert.notDeepEqual(readFileSync(path), old);
      assert.deepEqual(readdirSync(dir), ['model.safetensors'], 'no temporary left behind');
      const gone = zeros([1]);
      gone.dispose();
      const current = readFileSync(path);
      assert.throws(() => saveSafetensors(path, new Map([['c', gone]])), /disposed/);
      assert.deepEqual(readFileSync(path), current, 'untouched by the failed save');
      assert.throws(() => saveSafetensors(join(dir, 'missing-dir', 'x.safetensors'), new Map([['a', zeros([1])]])), /ENOENT/);
      assert.deepEqual(readdirSync(dir), ['model.safetensors']);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SafetensorsCheckpoint: single file, sharded index (lazy shards), and index errors', () => {
  const dir = tmp();
  try {
    tidy(() => {
      saveSafetensors(join(dir, 'model.safetensors'), new Map([['w', tensor([1, 2])]]));
      const single = SafetensorsCheckpoint.open(dir);
      assert.deepEqual(single.keys(), ['w']);
      assert.deepEqual(single.get('w').toNumbers(), [1, 2]);
      single.close();

      const sharded = join(dir, 'sharded');
      rmSync(sharded, { recursive: true, force: true });
      mkdirSync(sharded);
      saveSafetensors(join(sharded, 'model-00001-of-00002.safetensors'), new Map([['layer.0.w', tensor([1])], ['embed', tensor([5, 6])]]));
      saveSafetensors(join(sharded, 'model-00002-of-00002.safetensors'), new Map([['layer.1.w', tensor([2])]]));
      const index = { metadata: { total_size: 16 }, weight_map: { 'layer.0.w': 'model-00001-of-00002.safetensors', embed: 'model-00001-of-00002.safetensors', 'layer.1.w': 'model-00002-of-00002.safetensors' } };
      writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify(index));
      const cp = SafetensorsCheckpoint.open(sharded);
      assert.deepEqual(cp.keys().sort(), ['embed', 'layer.0.w', 'layer.1.w']);
      assert.ok(cp.has('embed') && !cp.has('nope'));
      assert.deepEqual(cp.get('layer.1.w').toNumbers(), [2]);
      assert.deepEqual(cp.get('embed').toNumbers(), [5, 6]);
      assert.deepEqual(cp.info('layer.0.w').shape, [1]);
      assert.throws(() => cp.get('nope'), (e: Error) => e instanceof SafetensorsError && /no tensor 'nope'/.test(e.message));
      cp.close();

      const bad = (content: string, re: RegExp) => {
        writeFileSync(join(sharded, 'model.safetensors.index.json'), content);
        assert.throws(() => SafetensorsCheckpoint.open(sharded), (e: Error) => e instanceof SafetensorsError && re.test(e.message), content);
      };
      bad('{not json', /not valid JSON/);
      bad('null', /missing "weight_map"/);
      bad('[]', /missing "weight_map"/);
      bad('{"weight_map": []}', /missing "weight_map"/);
      bad('{"weight_map": {"a": "missing.safetensors"}}', /lists shard 'missing.safetensors', which is missing/);
      // A shard name is a file of the directory, never a path (or anything but a string).
      for (const content of ['{"weight_map": {"a": "../model.safetensors"}}', '{"weight_map": {"a": ".."}}', '{"weight_map": {"a": 5}}']) {
        writeFileSync(join(sharded, 'model.safetensors.index.json'), content);
        assert.throws(() => SafetensorsCheckpoint.open(sharded), (e: Error) => e instanceof PathEscapeError && /every file it names must be inside/.test(e.message), content);
      }
      assert.throws(() => SafetensorsCheckpoint.open(join(dir, 'nothing-here')), /no model.safetensors or model.safetensors.index.json/);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const F32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

const malformed: [string, Buffer, RegExp][] = [
  ['shorter than the length prefix', Buffer.from([1, 2, 3]), /truncated \(3 bytes, no header length\)/],
  ['header length beyond the file', rawFile({}, undefined, 1000n), /truncated: header says 1000 bytes/],
  ['header over the size limit', rawFile({}, undefined, BigInt(MAX_HEADER_BYTES) + 1n), /exceeds the 104857600-byte limit/],
  ['header length 2^64 - 1', rawFile({}, undefined, 2n ** 64n - 1n), /exceeds/],
  ['header length too small', rawFile('{', undefined, 1n), /too small/],
  ['bad JSON', rawFile('{"a": '), /not valid UTF-8 JSON/],
  ['invalid UTF-8', rawFile(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x7b, 0x7d, 0x7d])), /not valid UTF-8 JSON/],
  ['JSON array header', rawFile('[]'), /header must be a JSON object/],
  ['entry not an object', rawFile({ a: 3 }), /entry 'a' is not an object/],
  ['unknown dtype', rawFile({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)), /unsupported dtype "F8_E4M3"/],
  ['missing dtype', rawFile({ a: { shape: [1], data_offsets: [0, 4] } }, Buffer.alloc(4)), /unsupported dtype undefined/],
  ['negative dimension', rawFile({ a: F32([-1], 0, 4) }, Buffer.alloc(4)), /invalid shape \[-1\]/],
  ['fractional dimension', rawFile({ a: F32([1.5], 0, 4) }, Buffer.alloc(4)), /invalid shape/],
  ['offsets reversed', rawFile({ a: F32([1], 4, 0) }, Buffer.alloc(4)), /invalid data_offsets \[4,0\]/],
  ['offsets not numbers', rawFile({ a: F32([1], 0, '4' as unknown as number) }, Buffer.alloc(4)), /invalid data_offsets/],
  ['offsets vs shape', rawFile({ a: F32([2], 0, 4) }, Buffer.alloc(8)), /needs 8 bytes but data_offsets span 4/],
  ['offsets outside the file', rawFile({ a: F32([2], 4, 12) }, Buffer.alloc(8)), /data_offsets \[4, 12\] lie outside the file's 8-byte data section/],
  ['truncated data', rawFile({ a: F32([4], 0, 16) }, Buffer.alloc(10)), /outside the file's 10-byte data section \(truncated file\?\)/],
  ['overlapping tensors', rawFile({ a: F32([2], 0, 8), b: F32([2], 4, 12) }, Buffer.alloc(12)), /tensors 'a' and 'b' overlap/],
  ['metadata not strings', rawFile({ __metadata__: { n: 1 } }), /__metadata__ must be an object of strings/],
  ['huge shape product', rawFile({ a: F32([2 ** 40, 2 ** 40], 0, 4) }, Buffer.alloc(4)), /needs .* bytes but data_offsets span 4/],
];

for (const [name, buf, re] of malformed) {
  test(`malformed (${name}): SafetensorsError with a clear message, in memory and from a file`, () => {
    const before = liveTensors();
    assert.throws(() => parseSafetensors(buf), (e: Error) => e instanceof SafetensorsError && e.name === 'SafetensorsError' && re.test(e.message));
    const dir = tmp();
    try {
      const path = join(dir, 'bad.safetensors');
      writeFileSync(path, buf);
      assert.throws(() => loadSafetensors(path), (e: Error) => e instanceof SafetensorsError && re.test(e.message) && e.message.includes(path));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(liveTensors(), before, 'nothing leaked on the error path');
  });
}

test('missing file is a SafetensorsError', () => {
  assert.throws(() => SafetensorsFile.open('/nonexistent/x.safetensors'), (e: Error) => e instanceof SafetensorsError && /no such file/.test(e.message));
});

test('every supported dtype name maps both ways', () => {
  const names: Record<string, DType> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', BOOL: 'bool', F64: 'float64', U8: 'uint8', I8: 'int8' };
  for (const [st, dt] of Object.entries(names)) tidy(() => {
    const buf = serializeSafetensors(new Map([['t', zeros([1], { dtype: dt })]]));
    const header = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString());
    assert.equal(header.t.dtype, st);
    assert.equal(parseSafetensors(rawFile({ t: { dtype: st, shape: [0], data_offsets: [0, 0] } })).tensors.get('t')!.dtype, dt);
  });
});

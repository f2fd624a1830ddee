// Property-based fuzzing of the safetensors reader: valid files round trip; random and mutated
// files either load (consistently) or throw SafetensorsError — never another error, a crash, a
// hang or a leaked tensor. Seeded for reproducible CI; FUZZ_SEED=<n> explores other inputs and
// FUZZ_SCALE=<k> multiplies the run counts (the defaults take a few seconds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  type Tensor, type DType, fromBytes, tidy, dispose, liveTensors,
  serializeSafetensors, parseSafetensors, SafetensorsFile, SafetensorsError,
} from '../../src/torch/index.js';
import { BYTES_PER_ELEMENT } from '../../src/torch/dtype.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const DTYPES: DType[] = ['float32', 'float16', 'bfloat16', 'int64', 'int32', 'bool', 'float64', 'uint8', 'int8'];
const ST_NAMES = ['F32', 'F16', 'BF16', 'I64', 'I32', 'BOOL', 'F64', 'U8', 'I8'];

interface Spec { dtype: DType; shape: number[]; bytes: Uint8Array }
const specArb: fc.Arbitrary<Spec> = fc
  .record({ dtype: fc.constantFrom(...DTYPES), shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }) })
  .chain(({ dtype, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[dtype];
    return fc.uint8Array({ minLength: n, maxLength: n }).map((bytes) => ({
      dtype, shape, bytes: dtype === 'bool' ? bytes.map((b) => b & 1) : bytes,
    }));
  });
const nameArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }).filter((s) => s !== '__metadata__');
const fileArb = fc.record({
  specs: fc.dictionary(nameArb, specArb, { maxKeys: 4 }),
  metadata: fc.option(fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }), { nil: undefined }),
});

function build(f: { specs: Record<string, Spec>; metadata?: Record<string, string> }): Buffer {
  return tidy(() => {
    const m = new Map<string, Tensor>(Object.entries(f.specs).map(([k, s]) => [k, fromBytes(s.bytes, s.dtype, s.shape)]));
    return serializeSafetensors(m, f.metadata);
  });
}

/** Loads buf; a successful load must be self-consistent. Anything but SafetensorsError fails. */
function loadOrReject(buf: Uint8Array): 'loaded' | 'rejected' {
  const before = liveTensors();
  try {
    const { tensors } = parseSafetensors(buf);
    try {
      for (const [name, t] of tensors) {
        assert.equal(t.data().byteLength, t.numel * BYTES_PER_ELEMENT[t.dtype], name);
      }
    } finally {
      dispose(tensors);
    }
    return 'loaded';
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw new Error(`not a SafetensorsError: ${(e as Error)?.stack ?? String(e)}`);
    assert.ok(e.message.length > 10);
    return 'rejected';
  } finally {
    assert.equal(liveTensors(), before, 'no tensor leaked');
  }
}

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'length'; value: bigint }
  | { kind: 'lengthDelta'; delta: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'append'; bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('length' as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('lengthDelta' as const), delta: fc.integer({ min: -16, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
);

function mutate(src: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(src);
  for (const m of ms) {
    const at = b.length ? ('at' in m ? m.at % (b.length + 1) : 0) : 0;
    switch (m.kind) {
      case 'flip': if (b.length) b[at % b.length] = m.value; break;
      case 'truncate': b = b.subarray(0, at); break;
      case 'length': if (b.length >= 8) b.writeBigUInt64LE(m.value, 0); break;
      case 'lengthDelta': {
        if (b.length < 8) break;
        const v = b.readBigUInt64LE(0) + BigInt(m.delta);
        b.writeBigUInt64LE(v < 0n ? 0n : v >= 2n ** 64n ? 2n ** 64n - 1n : v, 0);
        break;
      }
      case 'insert': b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]); break;
      case 'delete': b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.count)]); break;
      case 'append': b = Buffer.concat([b, m.bytes]); break;
    }
  }
  return b;
}

test('valid files round trip exactly (random dtypes, shapes incl. empty, names, metadata)', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(fileArb, (f) => {
      const buf = build(f);
      const { tensors, metadata } = parseSafetensors(buf);
      try {
        assert.deepEqual([...tensors.keys()].sort(), Object.keys(f.specs).sort());
        for (const [k, s] of Object.entries(f.specs)) {
          const t = tensors.get(k)!;
          assert.equal(t.dtype, s.dtype);
          assert.deepEqual(t.shape, s.shape);
          assert.deepEqual(new Uint8Array(t.data().buffer), s.bytes);
        }
        // fast-check dictionaries have a null prototype: compare as plain objects
        assert.deepEqual({ ...metadata }, { ...(f.metadata ?? {}) });
      } finally {
        dispose(tensors);
      }
    }),
    { numRuns: runs(300), seed: SEED },
  );
});

test('mutated files (byte flips, truncation, header-length edits, splices) load or throw SafetensorsError', { timeout: 60_000 }, () => {
  const seen = { loaded: 0, rejected: 0 };
  fc.assert(
    fc.property(fileArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (f, ms) => {
      seen[loadOrReject(mutate(build(f), ms))]++;
    }),
    { numRuns: runs(2500), seed: SEED + 1 },
  );
  // both outcomes must occur, or the fuzzer is not exercising the reader
  assert.ok(seen.loaded > 50 && seen.rejected > 500, JSON.stringify(seen));
});

const entryArb = fc.record(
  {
    dtype: fc.oneof(fc.constantFrom(...ST_NAMES), fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })),
    shape: fc.oneof(
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
      fc.array(fc.oneof(fc.integer({ min: -2, max: 2 ** 33 }), fc.double(), fc.constant(2 ** 53)), { maxLength: 4 }),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    data_offsets: fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 64 })),
      fc.array(fc.oneof(fc.integer({ min: -5, max: 2 ** 40 }), fc.double()), { maxLength: 3 }),
      fc.jsonValue({ maxDepth: 1 }),
    ),
  },
  { requiredKeys: [] },
);

test('random JSON headers (arbitrary JSON, and tensor-like entries with hostile fields) never break the reader', { timeout: 60_000 }, () => {
  const seen = { loaded: 0, rejected: 0 };
  const header = fc.oneof(
    fc.json({ maxDepth: 3 }),
    fc.dictionary(nameArb, fc.oneof({ weight: 5, arbitrary: entryArb }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }), { maxKeys: 4 })
      .map((o) => JSON.stringify(o)),
  );
  fc.assert(
    fc.property(header, fc.uint8Array({ maxLength: 64 }), (h, data) => {
      const json = Buffer.from(h);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      seen[loadOrReject(Buffer.concat([len, json, data]))]++;
    }),
    { numRuns: runs(1500), seed: SEED + 2 },
  );
  assert.ok(seen.loaded > 20 && seen.rejected > 200, JSON.stringify(seen));
});

test('mutated files read from disk through SafetensorsFile (lazy reads) load or throw SafetensorsError', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-stfuzz-'));
  const path = join(dir, 'f.safetensors');
  const seen = { loaded: 0, rejected: 0 };
  try {
    fc.assert(
      fc.property(fileArb, fc.array(mutationArb, { maxLength: 3 }), (f, ms) => {
        writeFileSync(path, mutate(build(f), ms));
        const before = liveTensors();
        let file: SafetensorsFile | undefined;
        try {
          file = SafetensorsFile.open(path);
          for (const k of file.keys()) file.get(k).dispose();
          seen.loaded++;
        } catch (e) {
          if (!(e instanceof SafetensorsError)) throw new Error(`not a SafetensorsError: ${(e as Error)?.stack ?? String(e)}`);
          seen.rejected++;
        } finally {
          file?.close();
        }
        assert.equal(liveTensors(), before);
      }),
      { numRuns: runs(300), seed: SEED + 3 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(seen.loaded > 20 && seen.rejected > 20, JSON.stringify(seen));
});

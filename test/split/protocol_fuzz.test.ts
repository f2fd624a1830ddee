// Fuzzing the decoder: thousands of mutated and random frames must each decode or throw a
// ProtocolError (nothing else), in bounded time; anything that decodes must re-encode to the same frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FLOAT_WIRE_DTYPES,
  MESSAGE_TYPES,
  PROTOCOL_ERROR_CODES,
  PROTOCOL_VERSION,
  ProtocolError,
  WIRE_DTYPES,
  decodeFrame,
  encodeFrame,
  type FrameLimits,
} from '../../src/split/protocol/index.js';
import { ALL_TYPES, headerOf, rawFrame, sample } from './protocol_helpers.js';

const SEED = process.env.REVERTLM_FUZZ_SEED ? Number(process.env.REVERTLM_FUZZ_SEED) : undefined;
/** Far above the microseconds a small frame takes; only a hang or a blow-up could reach it. */
const MAX_DECODE_MS = 500;

const corpus: Buffer[] = FLOAT_WIRE_DTYPES.flatMap((dt) => ALL_TYPES.map((t) => {
  const s = sample(t, dt);
  return encodeFrame(s.msg, s.tensors);
}));

const SMALL: Partial<FrameLimits> = { maxFrameBytes: 4096, maxHeaderBytes: 2048, maxRank: 4, maxElements: 512, maxTensors: 3 };

type Outcome = string;
const seen = new Map<Outcome, number>();

/** Decodes buf under default and small limits; asserts the contract and returns the outcome. */
function check(buf: Uint8Array): Outcome {
  let outcome = '';
  for (const limits of [undefined, SMALL]) {
    const t0 = performance.now();
    try {
      const f = decodeFrame(buf, limits);
      // Decoded frames re-encode, and the re-encoding decodes to the same message and bytes.
      const again = decodeFrame(encodeFrame(f.msg, f.tensors, limits), limits);
      assert.deepEqual(again.msg, f.msg);
      const a = f.tensors as Record<string, { bytes: Uint8Array }>;
      const b = again.tensors as Record<string, { bytes: Uint8Array }>;
      assert.deepEqual(Object.keys(b), Object.keys(a));
      for (const k of Object.keys(a)) assert.ok(Buffer.from(a[k]!.bytes).equals(Buffer.from(b[k]!.bytes)));
      outcome ||= 'ok';
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw new Error(`decodeFrame threw a non-ProtocolError: ${String(e)}\nframe: ${Buffer.from(buf).toString('base64')}`);
      assert.ok((PROTOCOL_ERROR_CODES as readonly string[]).includes(e.code));
      outcome ||= e.code;
    }
    const ms = performance.now() - t0;
    assert.ok(ms < MAX_DECODE_MS, `decode took ${ms.toFixed(1)} ms`);
  }
  seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
  return outcome;
}

const frameIdx = fc.nat(corpus.length - 1);
const run = <T>(arb: fc.Arbitrary<T>, f: (v: T) => void, numRuns: number) =>
  fc.assert(fc.property(arb, (v) => { f(v); }), { numRuns, seed: SEED });

function outcomesOf(f: () => void): Map<string, number> {
  seen.clear();
  f();
  return new Map(seen);
}
const summary = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');

test('fuzz: bit flips', (t) => {
  const m = outcomesOf(() =>
    run(fc.tuple(frameIdx, fc.array(fc.tuple(fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 6 })), ([i, flips]) => {
      const buf = Buffer.from(corpus[i]!);
      for (const [pos, bit] of flips) buf[pos % buf.length]! ^= 1 << bit;
      check(buf);
    }, 4000),
  );
  t.diagnostic(summary(m));
  // the mutations reach past the prefix: header and payload checks are exercised
  for (const code of ['checksum', 'header_json', 'schema', 'bad_magic']) assert.ok(m.has(code), `no '${code}' among ${summary(m)}`);
});

test('fuzz: byte overwrites, insertions and deletions', (t) => {
  const m = outcomesOf(() =>
    run(
      fc.tuple(frameIdx, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.constantFrom('overwrite', 'insert', 'delete')),
      ([i, pos, bytes, op]) => {
        const src = corpus[i]!;
        const p = pos % src.length;
        let buf: Buffer;
        if (op === 'overwrite') {
          buf = Buffer.from(src);
          buf.set(bytes.subarray(0, buf.length - p), p);
        } else if (op === 'insert') buf = Buffer.concat([src.subarray(0, p), bytes, src.subarray(p)]);
        else buf = Buffer.concat([src.subarray(0, p), src.subarray(p + bytes.length)]);
        check(buf);
      },
      3000,
    ),
  );
  t.diagnostic(summary(m));
  assert.ok(m.size >= 4, summary(m));
});

test('fuzz: truncations and splices of two frames', (t) => {
  const m = outcomesOf(() => {
    run(fc.tuple(frameIdx, fc.nat()), ([i, cut]) => {
      const src = corpus[i]!;
      const out = check(src.subarray(0, cut % src.length));
      assert.equal(out, 'truncated');
    }, 1500);
    run(fc.tuple(frameIdx, frameIdx, fc.nat(), fc.nat()), ([i, j, a, b]) => {
      const x = corpus[i]!;
      const y = corpus[j]!;
      check(Buffer.concat([x.subarray(0, a % (x.length + 1)), y.subarray(b % (y.length + 1))]));
    }, 2000);
  });
  t.diagnostic(summary(m));
  assert.ok(m.has('truncated'));
});

const anyNumber = fc.oneof(fc.nat(10), fc.integer(), fc.double(), fc.constant(2 ** 53), fc.constant(-0), fc.constant(1e308));
const tensorDescriptor = fc.record(
  {
    name: fc.oneof(fc.constantFrom('hidden', 'grad', 'labels', 'attention_mask', 'logits', 'token_ids'), fc.string({ maxLength: 8 })),
    dtype: fc.oneof(fc.constantFrom(...WIRE_DTYPES), fc.string({ maxLength: 8 })),
    shape: fc.oneof(fc.array(fc.nat(4), { maxLength: 4 }), fc.array(anyNumber, { maxLength: 12 }), fc.jsonValue()),
    byteLength: fc.oneof(fc.nat(256), anyNumber),
    checksum: fc.oneof(fc.nat(0xffffffff), anyNumber),
  },
  { requiredKeys: ['name', 'dtype', 'shape', 'byteLength'] },
);

test('fuzz: random headers (structured and arbitrary JSON) with random payloads', (t) => {
  const m = outcomesOf(() => {
    run(
      fc.tuple(
        fc.record({
          type: fc.oneof(fc.constantFrom(...MESSAGE_TYPES), fc.string({ maxLength: 12 })),
          session: fc.oneof(fc.constant('s'), fc.string({ maxLength: 80 })),
          step: anyNumber,
          seq: anyNumber,
          tensors: fc.oneof(fc.array(tensorDescriptor, { maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })),
        }),
        fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
        fc.uint8Array({ maxLength: 300 }),
      ),
      ([h, extra, data]) => check(rawFrame({ ...extra, ...h }, data)),
      3000,
    );
    // fields of a valid message kept, some replaced by arbitrary JSON values
    run(
      fc.tuple(frameIdx, fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 }), fc.boolean()),
      ([i, patch, dropOne]) => {
        const src = corpus[i]!;
        const h = headerOf(src);
        const keys = Object.keys(h);
        if (dropOne) delete (h as Record<string, unknown>)[keys[Object.keys(patch).length % keys.length]!];
        const patched = Object.fromEntries(Object.entries(patch).map(([k, v]) => [keys[k.length % keys.length] ?? k, v]));
        check(rawFrame({ ...h, ...patched }, src.subarray(9 + src.readUInt32LE(5))));
      },
      2000,
    );
    // one field of one tensor descriptor replaced (shape dims, byte counts, checksums, names, dtypes)
    const fieldValue = fc.oneof(anyNumber, fc.array(fc.nat(6), { maxLength: 4 }), fc.constantFrom(...WIRE_DTYPES), fc.jsonValue({ maxDepth: 1 }));
    run(
      fc.tuple(frameIdx, fc.nat(), fc.constantFrom('name', 'dtype', 'shape', 'byteLength', 'checksum'), fieldValue),
      ([i, which, field, value]) => {
        const src = corpus[i]!;
        const h = headerOf(src);
        if (h.tensors.length) h.tensors[which % h.tensors.length]![field] = value;
        check(rawFrame(h, src.subarray(9 + src.readUInt32LE(5))));
      },
      2000,
    );
    run(fc.tuple(fc.json({ maxDepth: 4 }), fc.uint8Array({ maxLength: 64 })), ([json, data]) => check(rawFrame(json, data)), 1000);
  });
  t.diagnostic(summary(m));
  for (const code of ['schema', 'unknown_type', 'dtype', 'shape', 'checksum']) assert.ok(m.has(code), summary(m));
});

test('fuzz: random bytes behind a valid prefix, and deeply nested headers', (t) => {
  const m = outcomesOf(() => {
    run(fc.tuple(fc.uint8Array({ maxLength: 2048 }), fc.boolean()), ([bytes, withLen]) => {
      const prefix = Buffer.from([0x52, 0x56, 0x4c, 0x4d, PROTOCOL_VERSION, 0, 0, 0, 0]);
      prefix.writeUInt32LE(withLen ? Math.min(bytes.length, 1000) : (bytes[0] ?? 0) * 65_793, 5);
      check(Buffer.concat([prefix, bytes]));
    }, 1500);
  });
  // JSON nesting far deeper than any message: refused as schema, no stack overflow
  for (const depth of [1000, 20_000]) {
    check(rawFrame('['.repeat(depth) + ']'.repeat(depth)));
    check(rawFrame(`{"type":"bye","session":"","step":0,"seq":0,"reason":${'['.repeat(depth)}${']'.repeat(depth)},"tensors":[]}`));
  }
  t.diagnostic(summary(m));
  assert.ok(m.size >= 2, summary(m));
});

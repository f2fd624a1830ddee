import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors, manualSeed, randn, tensor, tidy } from '../../src/torch/index.js';
import { CaptureReader, CaptureWriter, tensorToWire, type CaptureContext, type Message } from '../../src/split/index.js';
import { analyzeCapture } from '../../src/leakage/index.js';
import { hiddenFromCapture } from '../../src/experiments/index.js';

const fwd = (step: number): Message => ({ type: 'forward', session: 's', step, seq: step, phase: 'train' });
const ctx = (splitPoint: number): CaptureContext => ({ deviceId: 'dev', splitPoint, tailBlocks: null, wireDtype: 'float32' });

test('hiddenFromCapture: real positions of one split point, each distinct row once; analyzeCapture on it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'revertlm-leakage-capture-'));
  const before = liveTensors();
  try {
    manualSeed(1);
    const expected: number[][] = [];
    const writer = new CaptureWriter(dir, { durable: false });
    tidy(() => {
      // Position 0 of every sequence is the same vector (a BOS-like atom); row 1 pads its last 2 positions.
      const bos = tensor([1, 2, 3, 4]).view(1, 1, 4);
      for (let step = 1; step <= 40; step++) {
        const record = randn([2, 5, 4]);
        record.narrow(1, 0, 1).copy_(bos);
        const mask = tensor([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [2, 5], { dtype: 'bool' });
        writer.record(ctx(2), 'to_server', fwd(step), { hidden: tensorToWire(record), attention_mask: tensorToWire(mask) });
        const v = record.toNumbers();
        const rowsOf = (b: number, t: number) => v.slice((b * 5 + t) * 4, (b * 5 + t + 1) * 4);
        for (const [b, t] of [[0, 0], [0, 1], [0, 2], [0, 3], [0, 4], [1, 0], [1, 1], [1, 2]] as const) {
          const r = rowsOf(b, t);
          if (!expected.some((e) => e.every((x, i) => x === r[i]))) expected.push(r);
        }
      }
      writer.record(ctx(3), 'to_server', fwd(41), { hidden: tensorToWire(randn([1, 2, 4])) });
    });
    writer.finalize();

    const reader = CaptureReader.open(dir);
    try {
      assert.throws(() => hiddenFromCapture(reader), /split points 2, 3/);
      const cap = hiddenFromCapture(reader, { splitPoint: 2 });
      try {
        assert.equal(cap.splitPoint, 2);
        assert.deepEqual(cap.hidden.shape, [expected.length, 4]);
        assert.equal(expected.length, 1 + 40 * 6, 'one shared first position + 6 real, distinct positions per record');
        assert.deepEqual(cap.hidden.toNumbers(), expected.flat().map((x) => Math.fround(x)));
        const capped = hiddenFromCapture(reader, { splitPoint: 2, maxTokens: 50 });
        assert.equal(capped.hidden.size(0), 50);
        capped.dispose();

        const a = await analyzeCapture(cap, { seed: 3, components: 4 });
        assert.equal(a.split_point, 2);
        assert.equal(a.tokens, expected.length);
        assert.equal(a.attacker, null);
        for (const v of Object.values(a.hidden)) assert.ok(typeof v === 'number' && Number.isFinite(v));
        assert.deepEqual(await analyzeCapture(cap, { seed: 3, components: 4 }), a, 'deterministic for a seed');
      } finally {
        cap.dispose();
      }
    } finally {
      reader.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(liveTensors(), before, 'no tensors leak');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../../src/torch/index.js';
import { TwinLedger, type StreamSeparators } from '../../src/attacks/revertlm/twin_ledger.js';
import { driftedRepair } from './drifted_repair.js';

const BOS = 1;
const EOS = 2;
const HASH = 38;
const AT = 67;
const stream: StreamSeparators = { separators: new Set([BOS, EOS]), eos: EOS, bosAfterEos: BOS };

test('a tie goes to the twin that re-encoded closest at the most positions of the capture', () => {
  const ledger = new TwinLedger();
  // Batch 0: '#' closest at three positions, '@' at one; every decision a tie between them.
  const rows = [[[5, HASH, 6, AT, 7], [8, AT, 9, AT, 10]], [[11, AT, 12]]];
  const b0 = ledger.forBatch(0);
  b0(0, 1, HASH, [AT, HASH]);
  b0(0, 3, AT, [AT, HASH]);
  b0(1, 1, HASH, [AT, HASH]);
  b0(1, 3, HASH, [AT, HASH]);
  ledger.forBatch(1)(0, 1, 70, [AT, HASH, 70]);
  assert.deepEqual([...ledger.tally()].sort((a, b) => a[0] - b[0]), [[HASH, 3], [AT, 1], [70, 1]].sort((a, b) => a[0] - b[0]));
  assert.equal(ledger.relabel(rows, stream), 4);
  assert.deepEqual(rows, [[[5, HASH, 6, HASH, 7], [8, HASH, 9, HASH, 10]], [[11, HASH, 12]]]);
});

test('without a tie the repair\'s choice stands; equal tallies keep the prior\'s order; a later pass overwrites', () => {
  const ledger = new TwinLedger();
  const rows = [[[5, AT, 6, 70, 7]]];
  const s = ledger.forBatch(0);
  s(0, 1, HASH, [AT]);
  s(0, 1, AT, [AT]); // the second pass at the same position: no longer a tie, '@' closest
  s(0, 3, 70, [70, 71]);
  s(0, 2, 71, [6]);
  assert.equal(ledger.tally().get(HASH), undefined, 'the overwritten decision no longer counts');
  assert.equal(ledger.relabel(rows, stream), 0, 'single-token ties and a tie the prior already decided (70 and 71 both counted once) change nothing');
  assert.deepEqual(rows, [[[5, AT, 6, 70, 7]]]);
});

test('a tie keeps EOS only where the stream allows it: BOS next, or the window\'s end', () => {
  const ledger = new TwinLedger();
  const s = ledger.forBatch(0);
  const rows = [[[5, EOS, 9, EOS, BOS, 6, EOS], [5, HASH, BOS, 7, 8, 9, 9]]];
  for (let i = 0; i < 5; i++) ledger.forBatch(1)(i, 1, HASH, [HASH]); // elsewhere in the capture '#' re-encodes closest
  s(0, 1, AT, [EOS, HASH, AT]); // EOS then '9': not from the stream
  s(0, 3, AT, [EOS, HASH]); // EOS then BOS
  s(0, 6, AT, [EOS, HASH]); // the window's last token
  s(1, 1, AT, [HASH, EOS]); // '#' then BOS: the separator is allowed and preferred
  assert.equal(ledger.relabel(rows, stream), 2);
  assert.deepEqual(rows[0], [[5, HASH, 9, EOS, BOS, 6, EOS], [5, EOS, BOS, 7, 8, 9, 9]]);
  const loose = new TwinLedger();
  loose.forBatch(0)(0, 1, AT, [EOS, HASH]);
  const r2 = [[[5, AT, 9]]];
  loose.relabel(r2, { ...stream, bosAfterEos: null });
  assert.deepEqual(r2, [[[5, EOS, 9]]], 'a tokenizer that opens no text with BOS: a tied separator wins anywhere');
  const bos = new TwinLedger();
  bos.forBatch(0)(0, 2, 70, [BOS, 70]);
  bos.forBatch(0)(1, 2, 70, [BOS, 70]);
  const r3 = [[[5, 6, 70, 7], [5, EOS, 70, 7]]];
  bos.relabel(r3, stream);
  assert.deepEqual(r3, [[[5, 6, 70, 7], [5, EOS, BOS, 7]]], 'BOS only after EOS');
});

test('the repair records its twin decisions: at every EOS a tie of EOS and its near-copy', () => {
  const live0 = liveTensors();
  const p = driftedRepair(41, { separators: true, separatorTwin: true });
  try {
    const T = p.guess.size(1);
    // Position 0 is identified from the traffic (framing.ts), not repaired.
    const eosAt = p.guess.toNumbers().flatMap((x, i) => (x === p.fragmentId && i % T > 0 ? [i] : []));
    assert.ok(eosAt.length >= 3, `the guess holds EOS's near-copy wherever the truth has EOS (${eosAt.length})`);
    const seen = new Map<number, readonly number[]>();
    const out = p.run({ trySeparators: true, separators: [1, 2], wideK: 0, escalateK: 8, neighbourK: 0, twinCos: 0.99, twinSink: (b, t, _closest, tied) => seen.set(b * T + t, tied) }).out;
    for (const i of eosAt) assert.deepEqual([...(seen.get(i) ?? [])].sort(), [2, p.fragmentId].sort(), `position ${i}`);
    out.dispose();
  } finally {
    p.dispose();
  }
  assert.equal(liveTensors(), live0);
});

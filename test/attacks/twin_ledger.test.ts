import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors, noGrad, tidy } from '../../src/torch/index.js';
import { TwinLedger, type StreamSeparators } from '../../src/attacks/revertlm/twin_ledger.js';
import { repair } from '../../src/attacks/revertlm/repair.js';
import { RevertLMAttack } from '../../src/attacks/index.js';
import { captureIds } from '../../src/experiments/index.js';
import { streamWindows } from '../../src/data/windows.js';
import { driftedRepair } from './drifted_repair.js';
import { sentences, tiny } from './helpers.js';

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

test('RevertLM reads a word that is a near-copy of EOS as the word where the stream puts no BOS after it', async () => {
  const t = tiny(5);
  const eos = t.tokenizer.eosTokenId!;
  const bos = t.tokenizer.bosTokenId!;
  const the = t.tokenizer.encode('the', { addBos: false })[0]!;
  // "the" gets a scaled copy of EOS's input embedding: the two re-encode within float32 rounding of each other.
  noGrad(() => tidy(() => {
    const E = t.model.namedParameters().find(([n]) => /embed/.test(n))![1];
    E.select(0, the).copy_(E.select(0, eos).mul(1.001));
  }));
  const knowledge = t.knowledge(1);
  const net = { d: 48, layers: 1, heads: 4, ff: 96, dropout: 0 };
  const attack = new RevertLMAttack(knowledge, { projector: net, generator: { ...net, memLayers: 0 }, beam: 2, lambdas: [0] });
  // The runtime's stream: every text opened with BOS and closed with EOS, cut into windows.
  const { windows } = streamWindows(sentences(40, 77), t.tokenizer, 16);
  const capture = captureIds(knowledge.device, windows, 0, 32);
  try {
    await attack.fit({ texts: sentences(400, 11) }, { budget: { examples: 400, steps: 160, batchSize: 16, maxTokens: 24 }, seed: 1 });
    // What the rows hold where the truth has `want`, between position 0 (identified from the traffic) and
    // the window's last position (where nothing follows to tell EOS from its near-copy).
    const at = (rows: readonly (readonly number[])[], want: number) => rows.flatMap((r, i) => r.flatMap((x, j) => (j > 0 && j < r.length - 1 && windows[i]![j] === want ? [x] : [])));
    // The search alone (no capture-level pass): a tie between "the" and EOS goes to the separator.
    const searched: number[][] = [];
    for (const b of capture.batches(32)) {
      const p = attack.searchProblem(b);
      const out = repair(knowledge.device, p.init, b.hidden, b.attentionMask, {
        ...p.settings, separators: [bos, eos], proposals: () => ({ sources: p.sources.map((x) => x.clone()), logProb: p.logProb?.clone() }),
      });
      const T = out.size(1);
      const flat = out.toNumbers();
      searched.push(...Array.from({ length: out.size(0) }, (_, r) => flat.slice(r * T, r * T + T)));
      for (const x of [out, p.init, ...p.sources, p.logProb]) x?.dispose();
    }
    assert.ok(at(searched, the).filter((x) => x === eos).length > 0, 'the search alone reads some "the" as EOS (else this test shows nothing)');
    const { inversion } = await attack.invertAll(capture);
    const theRead = at(inversion.ids, the);
    assert.ok(theRead.length > 10, `the windows hold "the" (${theRead.length})`);
    assert.equal(theRead.filter((x) => x === eos).length, 0, 'no "the" read as EOS');
    assert.equal(theRead.filter((x) => x === the).length, theRead.length, 'every "the" read as "the"');
    const eosRead = at(inversion.ids, eos);
    assert.ok(eosRead.length > 3 && eosRead.every((x) => x === eos), `every EOS before BOS stays EOS (${eosRead.join(',')})`);
    const single: number[][] = [];
    for (const b of capture.batches(32)) single.push(...attack.invert(b).ids);
    assert.equal(at(single, the).filter((x) => x === eos).length, 0, 'invert(batch) makes the same pass over its batch');
  } finally {
    capture.dispose();
    attack.dispose();
    t.dispose();
  }
});

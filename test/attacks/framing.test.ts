// Framing inferred from the traffic: windows cut mid-text (no BOS at position 0) and BOS-framed
// windows in one capture; token 0 is identified per window and no attack forces BOS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAttack, MemoryInterceptSource, makeBatch } from '../../src/attacks/index.js';
import { padBatch } from '../../src/data/windows.js';
import { FirstTokenIndex, bosFramed } from '../../src/attacks/framing.js';
import { keep, noGrad, tidy } from '../../src/torch/index.js';
import type { DevicePart } from '../../src/models/index.js';
import { sentences, tiny } from './helpers.js';

/** The runtime's framing: one stream (BOS where a text starts), cut into windows of `seq` tokens. */
function streamWindows(encode: (s: string) => number[], texts: string[], seq: number): number[][] {
  const stream = texts.flatMap(encode);
  return Array.from({ length: Math.floor(stream.length / seq) }, (_, i) => stream.slice(i * seq, (i + 1) * seq));
}

function captureOf(device: DevicePart, windows: number[][]): MemoryInterceptSource {
  const { ids, mask } = padBatch(windows);
  const hidden = keep(noGrad(() => device.forward(ids, { attentionMask: mask }).hidden));
  ids.dispose();
  return new MemoryInterceptSource(device.splitPoint, [makeBatch(hidden, keep(mask), device.splitPoint)]);
}

test('token 0 and the framing of every window are identified from the traffic, BOS or mid-text', () => {
  const t = tiny(41);
  try {
    for (const k of [1, 2]) {
      const { device } = t.knowledge(k);
      const windows = streamWindows((s) => t.tokenizer.encode(s, { addBos: true, addEos: true }), sentences(30, 6), 7);
      const bosRows = windows.map((w) => w[0] === 1);
      assert.ok(bosRows.some(Boolean) && bosRows.some((x) => !x), 'the stream gives both framings');
      const src = captureOf(device, windows);
      const index = new FirstTokenIndex(device);
      try {
        for (const b of src.batches(64)) {
          const first = index.firstTokens(b.hidden);
          assert.deepEqual(first, windows.map((w) => w[0]));
          assert.deepEqual(bosFramed(first, 1), bosRows);
        }
      } finally {
        index.dispose();
        src.dispose();
      }
    }
  } finally {
    t.dispose();
  }
});

test('attacks trained without a framing announcement keep each window\'s own token 0', async () => {
  const t = tiny(42);
  try {
    const knowledge = t.knowledge(1);
    const windows = streamWindows((s) => t.tokenizer.encode(s, { addBos: true, addEos: true }), sentences(40, 16), 12);
    const src = captureOf(knowledge.device, windows);
    const net = { d: 32, layers: 1, heads: 4, ff: 64, dropout: 0 };
    try {
      for (const a of [
        createAttack('revertlm', knowledge, { projector: net, generator: { ...net, memLayers: 0 }, beam: 2, lambdas: [0] }),
        createAttack('sip', knowledge, net),
        createAttack('nn', knowledge),
      ]) {
        try {
          await a.fit({ texts: sentences(200, 17) }, { budget: { examples: 200, steps: 60, batchSize: 16, maxTokens: 12 }, seed: 1 });
          const ids = [...src.batches(64)].flatMap((b) => a.invert(b).ids);
          assert.deepEqual(ids.map((r) => r[0]), windows.map((w) => w[0]), `${a.name}: token 0`);
        } finally {
          a.dispose();
        }
      }
    } finally {
      src.dispose();
    }
  } finally {
    t.dispose();
  }
});

test('token 0 among near-copies: ids the tokenizer never emits are skipped, a separator is taken where the states tie, the evidence decides where they do not', () => {
  const t = tiny(41);
  try {
    const { device } = t.knowledge(1);
    const eos = t.tokenizer.eosTokenId!;
    const [twin, never] = ['the', 'a'].map((w) => t.tokenizer.encode(w, { addBos: false })[0]!) as [number, number];
    noGrad(() => tidy(() => {
      // "the" gets a scaled copy of EOS's input embedding (cosine 1): their position-0 states lie close.
      const E = device.embeddingMatrix;
      E.select(0, twin).copy_(E.select(0, eos).mul(1.05));
    }));
    const opts = { separators: [1, eos], unreachable: new Set([never]), twinCos: 0.99 };
    const index = new FirstTokenIndex(device, opts);
    const plain = new FirstTokenIndex(device);
    try {
      const S = index.states;
      const row = (tok: number) => S.select(0, tok).unsqueeze(0);
      noGrad(() => tidy(() => {
        assert.deepEqual(plain.identify(row(twin)).toNumbers(), [twin], 'the exact state of the twin is the twin');
        assert.deepEqual(index.identify(row(twin)).toNumbers(), [twin], 'and stays so with the preference: the evidence is decisive (distance 0)');
        // Between the two states, nearer the twin's: a tie within noise.
        const between = row(twin).mul(0.6).add(row(eos).mul(0.4));
        assert.deepEqual(plain.identify(between).toNumbers(), [twin], 'without the preference the nearer twin wins');
        assert.deepEqual(index.identify(between).toNumbers(), [eos], 'with it the separator does');
        assert.deepEqual(plain.identify(row(never)).toNumbers(), [never]);
        assert.notEqual(index.identify(row(never)).toNumbers()[0], never, 'an id the tokenizer never emits is never identified');
        const other = t.tokenizer.encode('dog', { addBos: false })[0]!;
        assert.deepEqual(index.identify(row(other).mul(1.05)).toNumbers(), [other], 'a token that is no separator\'s twin keeps its own');
      }));
    } finally {
      index.dispose();
      plain.dispose();
    }
  } finally {
    t.dispose();
  }
});

// Reading a real capture (the split runtime in-process: SplitServer with --capture, SplitDevice):
// training, evaluation and generation traffic, each generation reassembled into one window per
// sequence (the prompt's states, then one position per new token), step ranges and phase filters,
// and the evaluator's references of every window.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadDevicePart } from '../../src/models/index.js';
import { ids as idsTensor, liveTensors, noGrad, ones, tidy } from '../../src/torch/index.js';
import { InProcessTransport } from '../../src/split/transport/index.js';
import { SplitServer } from '../../src/split/server/index.js';
import { SplitDevice, type DeviceGenerateResult } from '../../src/split/device/index.js';
import { CaptureError, type CaptureRecord } from '../../src/split/capture/index.js';
import { captureSource, generations } from '../../src/experiments/capture_source.js';
import { createAttack, reencodeDistance } from '../../src/attacks/index.js';
import { referenceWindows, scoredCapture } from '../../src/experiments/references.js';
import { removeTempDirs, tempDir, tinySplitSetup } from '../split/cli_helpers.js';

const S = tinySplitSetup();
const LORA = { rank: 4, alpha: 8, targets: ['q', 'v'], seed: 3 };
const RUN = { steps: 4, batch: 2, seq: 16 } as const;
const cap = join(tempDir('revertlm-fromcap-'), 'capture');
let gens: DeviceGenerateResult[] = [];
let device: SplitDevice;

before(async () => {
  const server = await SplitServer.start({ modelDir: S.model, splitPoint: 1, token: S.token, captureDir: cap, captureDurable: false, lora: LORA, lr: 5e-3, log: () => undefined }, false);
  device = new SplitDevice({
    modelDir: S.model, splitPoint: 1, server: 'in-process', token: S.token, deviceId: 'd', lora: LORA, lr: 5e-3, log: () => undefined,
    connect: async () => {
      const [d, s] = InProcessTransport.pair();
      void server.accept(s);
      return d;
    },
  });
  await device.finetune({ texts: S.textsA, ...RUN });
  await device.evaluate({ texts: S.textsA, batch: 2, seq: RUN.seq, windows: 4 });
  gens = [
    await device.generate({ prompt: 'Alice met Robert at', maxNewTokens: 8, temperature: 0 }),
    await device.generate({ prompt: 'Mail', maxNewTokens: 5, temperature: 0 }),
  ];
  await server.shutdown();
});
after(() => {
  device?.dispose();
  removeTempDirs();
});

test('every phase of a capture is read, in capture order; generations become one window per sequence', () => {
  const live0 = liveTensors();
  const src = captureSource(cap);
  try {
    const phases = src.windows.map((w) => w.phase);
    assert.deepEqual(phases, [...Array(RUN.steps * RUN.batch).fill('train'), ...Array(4).fill('eval'), 'generate', 'generate']);
    assert.equal(src.size, src.windows.length);
    const g = src.windows.filter((w) => w.phase === 'generate');
    // The last generated token is never sent: the prompt plus all new tokens but the last.
    g.forEach((w, i) => assert.equal(w.length, gens[i]!.promptIds.length + gens[i]!.ids.length - 1));
    assert.deepEqual(g.map((w) => w.generation!.steps), gens.map((x) => x.ids.length));
    // The session's LoRA settings (both sides' --lora-*), recorded by the server: adapter estimation fits that shape.
    assert.deepEqual(src.announcedAdapters, [{ rank: LORA.rank, alpha: LORA.alpha, targets: LORA.targets }]);
  } finally {
    src.dispose();
  }
  assert.equal(liveTensors(), live0, 'the source freed its tensors');
});

test("a generation's reassembled window is the device's H_k of its tokens (KV caches on both sides), and attacks take it", () => {
  const src = captureSource(cap, { phase: 'generate' });
  const part = device.part;
  try {
    const refs = referenceWindows(device.tokenizer, src.windows, { generations: gens });
    refs.forEach((ids, i) => assert.deepEqual(ids, [...gens[i]!.promptIds, ...gens[i]!.ids].slice(0, src.windows[i]!.length)));
    let i = 0;
    for (const b of src.batches(8)) {
      assert.deepEqual(Object.keys(b).sort(), ['attentionMask', 'hidden', 'splitPoint'], 'a generation window holds wire fields only');
      assert.ok(Object.isFrozen(b));
      const want = noGrad(() => tidy(() => part.forward(idsTensor([refs[i]!])).hidden));
      const mask = ones([1, refs[i]!.length], { dtype: 'int64' });
      try {
        assert.deepEqual(b.hidden.shape, want.shape);
        const err = tidy(() => b.hidden.sub(want).abs().max().item());
        assert.ok(err < 1e-5, `generation ${i + 1}: the reassembled states differ by ${err} from a full forward of the same tokens`);
        // Re-encoding the true tokens through the device reproduces every position: nothing shifted.
        assert.ok(reencodeDistance(part, idsTensor([refs[i]!]), mask, b.hidden, { skipFirst: false })[0]! < 1e-6);
      } finally {
        want.dispose();
        mask.dispose();
      }
      i++;
    }
    assert.equal(i, gens.length);
    const pretrained = loadDevicePart(S.model, 1);
    const nn = createAttack('nn', { device: pretrained, tokenizer: device.tokenizer });
    try {
      for (const b of src.batches(8)) assert.equal(nn.invert(b).ids[0]!.length, b.hidden.size(1));
    } finally {
      nn.dispose();
      pretrained.dispose();
    }
  } finally {
    src.dispose();
  }
});

test('a step range and a phase filter select part of a capture; a generation is cut after the range, never before its prompt', () => {
  const two = captureSource(cap, { phase: 'train', fromStep: 2, toStep: 3 });
  const cut = captureSource(cap, { phase: 'generate', toStep: 3 });
  const whole = captureSource(cap, { phase: 'generate' });
  try {
    assert.deepEqual(two.windows.map((w) => [w.step, w.row]), [[2, 0], [2, 1], [3, 0], [3, 1]]);
    const [c, w] = [[...cut.batches(8)], [...whole.batches(8)]];
    assert.deepEqual(cut.windows.map((x) => x.length), gens.map((g) => g.promptIds.length + Math.min(2, g.ids.length - 1)));
    c.forEach((b, i) => {
      const T = b.hidden.size(1);
      assert.equal(tidy(() => b.hidden.sub(w[i]!.hidden.narrow(1, 0, T)).abs().max().item()), 0, 'the first positions of the whole generation');
    });
    assert.throws(() => captureSource(cap, { phase: 'eval', fromStep: 9 }), (e: unknown) => e instanceof CaptureError && /holds no eval activations from step 9$/.test(e.message));
  } finally {
    for (const s of [two, cut, whole]) s.dispose();
  }
});

test("the evaluator's references of a real capture: training and evaluation windows from the device's text and seed, checked against the labels", () => {
  const s = scoredCapture(cap, device.tokenizer, { texts: S.textsA, generations: gens }, { seed: LORA.seed });
  try {
    assert.equal(s.references.length, s.source.size);
    assert.equal(s.labels.checked, RUN.steps * RUN.batch + 4, 'training and evaluation windows carry labels');
    assert.equal(s.labels.agree, s.labels.checked);
  } finally {
    s.source.dispose();
  }
  assert.throws(() => scoredCapture(cap, device.tokenizer, { texts: S.textsA, generations: gens }, { seed: LORA.seed + 1 }), /do not match the capture: \d+ of 12 windows differ/);
  assert.throws(() => scoredCapture(cap, device.tokenizer, { texts: S.textsA }, { seed: LORA.seed }), /generation references/);
});

test('a generation ends where a step is missing (a crash lost it)', () => {
  const rec = (record: number, step: number, offset: number, T: number, reset: boolean, cacheId = 'gen-0'): CaptureRecord => ({
    record, time: '', deviceId: 'd', session: 's', step, seq: record, splitPoint: 1, tailBlocks: null, wireDtype: 'float32', type: 'generate_step', direction: 'to_server',
    fields: { cacheId, positionOffset: offset, reset }, tensors: [{ name: 'hidden', dtype: 'float32', shape: [1, T, 4], chunk: 0, offset: 0, byteLength: 0, crc32: 0 }],
  });
  const g = generations([rec(0, 1, 0, 5, true), rec(1, 2, 5, 1, false), rec(2, 4, 7, 1, false), rec(3, 5, 8, 1, false), rec(4, 1, 0, 3, true, 'gen-1')]);
  assert.deepEqual(g.map((x) => x.map((r) => r.record)), [[0, 1], [4]]);
});

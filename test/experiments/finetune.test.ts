import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { namedLoRAParameters, randomModel, type ModelConfig, type TextTokenizer } from '../../src/models/index.js';
import { GaussianDefense, NoPeekDefense, distanceCorrelation } from '../../src/defenses/index.js';
import { defendedFinetune, finetuneSegments, splitFinetune, type SplitFinetuneOptions, type SplitFinetuneResult } from '../../src/experiments/index.js';

/** UTF-8 bytes as tokens: enough for a self-contained fine-tuning test. */
const bytes: TextTokenizer = {
  vocabSize: 256, bosTokenId: null, eosTokenId: null, padTokenId: null,
  encode: (t) => [...Buffer.from(t, 'utf8')],
  decode: (ids) => Buffer.from(ids).toString('utf8'),
};

const CONFIG: ModelConfig = {
  family: 'llama', vocabSize: 256, dModel: 32, nLayers: 3, nHeads: 4, nKvHeads: 4, dFf: 64, maxPositions: 64, normEps: 1e-5,
  ropeTheta: 10000, tieEmbeddings: false, activation: 'silu', attentionBias: false, mlpBias: false, bosTokenId: null, eosTokenId: null, padTokenId: null,
};

const NAMES = ['Alice', 'Robert', 'Maria', 'James', 'Linda', 'David'];
const PLACES = ['the office', 'the park', 'the station', 'the bank'];
function sentences(n: number, seed: number): string[] {
  let s = seed;
  const r = (m: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % m);
  return Array.from({ length: n }, () => `${NAMES[r(6)]} met ${NAMES[r(6)]} at ${PLACES[r(4)]}; call 555-01${r(90) + 10}.`);
}
const TRAIN = sentences(40, 1);
const HELD_OUT = sentences(12, 2);

let loads = 0;
const base: Omit<SplitFinetuneOptions, 'defense' | 'texts'> = {
  loadModel: () => (loads++, randomModel(CONFIG, 3)),
  tokenizer: bytes, splitPoint: 2, steps: 12, batchSize: 6, maxTokens: 32,
  lora: { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] }, lr: 1e-2, seed: 5,
};

const run = (defense: NoPeekDefense | null, steps = base.steps) => splitFinetune({ ...base, steps, defense, texts: TRAIN });

function adapters(r: SplitFinetuneResult): torch.Tensor[] {
  return [...namedLoRAParameters(r.device), ...namedLoRAParameters(r.server)].map(([, t]) => t);
}
const maxAbsDiff = (a: torch.Tensor[], b: torch.Tensor[]) => torch.tidy(() => Math.max(...a.map((t, i) => t.sub(b[i]!).abs().max().item())));

/** dCor(E, H_k) of the device part over the held-out text's token vectors. */
function heldOutDcor(r: SplitFinetuneResult): number {
  return torch.noGrad(() => torch.tidy(() => {
    const segs = finetuneSegments(bytes, HELD_OUT, 32);
    const e = segs.map((s) => r.device.embed(torch.ids([s])).squeeze(0));
    const h = segs.map((s) => r.device.forward(torch.ids([s])).hidden.squeeze(0));
    return distanceCorrelation(torch.cat(e, 0).narrow(0, 0, 400), torch.cat(h, 0).narrow(0, 0, 400)).item();
  }));
}

test('splitFinetune: NoPeek at level 0 is plain split fine-tuning, and each call starts from a fresh model', async () => {
  const live = torch.liveTensors();
  loads = 0;
  const plain = await run(null);
  const again = await run(null);
  const zero = await run(new NoPeekDefense(0));
  assert.equal(loads, 3, 'one fresh model per call');
  assert.equal(plain.losses.length, base.steps);
  assert.deepEqual(again.losses, plain.losses, 'a second run is identical: nothing carried over from the first');
  assert.deepEqual(zero.losses, plain.losses);
  assert.equal(maxAbsDiff(adapters(zero), adapters(plain)), 0, 'adapters bit-identical');
  assert.equal(plain.penalties.length, 0);
  assert.equal(zero.penalties.length, base.steps);
  assert.ok(zero.penalties.every((p) => p === 0));
  // it did train: both sides' adapters moved off their initial B = 0, and the loss fell
  for (const part of [plain.device, plain.server]) {
    const bs = namedLoRAParameters(part).filter(([n]) => n.endsWith('.B'));
    assert.ok(bs.length > 0 && torch.tidy(() => bs.some(([, t]) => t.abs().max().item() > 0)));
  }
  assert.ok(plain.losses.at(-1)! < plain.losses[0]!, `loss ${plain.losses[0]} → ${plain.losses.at(-1)}`);
  assert.ok(plain.bytes.sent > 0 && plain.bytes.received > 0);
  for (const r of [plain, again, zero]) r.dispose();
  assert.equal(torch.liveTensors(), live, 'no tensor leaked');
});

test('splitFinetune: a large NoPeek weight lowers dCor(embeddings, activations) on held-out text', async (t) => {
  const steps = 30;
  const plain = await run(null, steps);
  const strong = await run(new NoPeekDefense(10), steps);
  try {
    const dPlain = heldOutDcor(plain);
    const dStrong = heldOutDcor(strong);
    t.diagnostic(`held-out dCor(E, H_2): ${dPlain.toFixed(3)} without NoPeek, ${dStrong.toFixed(3)} with level 10; ` +
      `penalty ${strong.penalties[0]!.toFixed(3)} → ${strong.penalties.at(-1)!.toFixed(3)}; loss ${strong.losses[0]!.toFixed(3)} → ${strong.losses.at(-1)!.toFixed(3)}`);
    assert.ok(strong.losses.every(Number.isFinite) && strong.penalties.every(Number.isFinite), 'losses stay finite');
    assert.ok(dStrong < dPlain - 0.05, `NoPeek did not decorrelate: ${dStrong} vs ${dPlain}`);
    assert.ok(strong.penalties.at(-1)! < strong.penalties[0]!, 'the training penalty fell');
  } finally {
    plain.dispose();
    strong.dispose();
  }
});

test('defendedFinetune: the routine the trade-off takes; only a defense with a training loss adds a penalty', async () => {
  const ft = defendedFinetune({ ...base, steps: 2 });
  const parts = await ft(new NoPeekDefense(1), TRAIN);
  assert.equal(parts.device.splitPoint, 2);
  assert.equal(parts.penalties.length, 2, 'NoPeek adds its device-side loss every step');
  parts.dispose();
  const noisy = await ft(new GaussianDefense({ level: 1, seed: 1 }), TRAIN);
  assert.equal(noisy.penalties.length, 0, 'an inference-time defense has no training loss');
  assert.ok(noisy.losses.every(Number.isFinite));
  noisy.dispose();
});

// Research driver (issue 13, text the models were not tuned on): why RevertLM recovers code sent
// through stories260K word for word (ROUGE-L 1.000) but few windows token for token once the device is
// personalized. Not part of the CLI.
// stories260K at split k: the victim's device fine-tunes LoRA r8 on q,v (1000 steps, lr 1e-3) on the
// first --texts CodeAlpaca outputs and sends every window of them once, float16 on the wire; RevertLM
// (trained on WikiText-2 with the pretrained part, cached under --cache) inverts the capture with
// adapter estimation. Then, on the true windows (an oracle the attack never has):
//   - twins: tokens whose input embedding has cosine >= 0.99 with another token's (the byte tokens
//     TinyStories never used); the share of the attack's wrong tokens that are twins;
//   - at every position whose true token has twins (true prefix, up to --positions of them), whether
//     the true token re-encodes nearer the observed state than each of its twins — with the attack's
//     estimate of the device and with the victim's own device part;
//   - a fresh estimate (the attack's shape, 550 Adam steps of 16 windows, as the estimation's rounds
//     add up to) fitted on the true ids, on the attack's reconstructions at every position, at the
//     positions whose token is right, and at those whose whole prefix is right: the drift each leaves.
// Usage (after `npx tsc -p tsconfig.json`): node dist/scripts/research/twin_limit.js --split 2
// Prints one JSON object.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel, loadTokenizer, splitModel, type DevicePart } from '../../src/models/index.js';
import { personalizeDevice, hiddenDrift, exactWindows } from '../../src/experiments/index.js';
import { RevertLMAttack } from '../../src/attacks/index.js';
import { DeviceEstimate, ownBatches, type FitBatch } from '../../src/attacks/estimation/index.js';
import { embeddingTwins } from '../../src/attacks/embedding_relatives.js';
import { loadTexts } from '../../src/data/index.js';
import { ids as idTensor, noGrad, tensor, tidy, type Tensor } from '../../src/torch/index.js';

const { values: a } = parseArgs({
  options: {
    shared: { type: 'string', default: '/work/shared' },
    split: { type: 'string', default: '2' },
    texts: { type: 'string', default: '60' },
    positions: { type: 'string', default: '300' },
    examples: { type: 'string', default: '2000' },
    steps: { type: 'string', default: '300' },
    cache: { type: 'string', default: '/tmp/revertlm-twin-cache' },
  },
});
const k = Number(a.split);
const modelDir = join(a.shared!, 'models/stories260K');
const tok = loadTokenizer(modelDir);
const lm = loadModel(modelDir);
const pre = splitModel(lm, k).device;
const texts = loadTexts({ format: 'json', path: join(a.shared!, 'data/code_alpaca_2k.json'), field: 'output' }).slice(0, Number(a.texts));
const dev = await personalizeDevice({ modelDir, splitPoint: k, texts, personalization: { mode: 'lora', steps: 1000, lr: 1e-3, rank: 8, targets: ['q', 'v'], seed: 0 }, seq: 32, wireDtype: 'float16' });
const cap = dev.openCapture();
const truth = cap.referenceIds.map((w) => [...w]);
const attack = new RevertLMAttack({ device: pre, tokenizer: tok, lm });
const ckpt = join(a.cache!, `stories260K-k${k}-${a.examples}x${a.steps}`);
if (existsSync(ckpt)) attack.load(ckpt);
else {
  const aux = loadTexts({ format: 'lines', path: join(a.shared!, 'data/wikitext2-test.raw'), minChars: 8 });
  await attack.fit({ texts: aux }, { budget: { examples: Number(a.examples), steps: Number(a.steps), maxTokens: 32 }, seed: 0 });
  attack.save(ckpt);
}
const t0 = performance.now();
// The capture carries the LoRA shape its session announced (the server records its --lora-* settings).
const { inversion } = await attack.invertAll(cap.source);
const invertSeconds = (performance.now() - t0) / 1000;
const recon = inversion.ids;
const estimate = attack.deviceEstimate();

// Twins: tokens with an input-embedding cosine >= 0.99 to some other token (the repair's own twins, twinCos 0.99).
const twinsOf = embeddingTwins(pre, 0.99);
const twinLists = Array.from({ length: lm.config.vocabSize }, (_, t) => Array.from(twinsOf(t)));
let wrong = 0, wrongTwins = 0, positions = 0;
truth.forEach((w, i) => w.forEach((t, j) => {
  positions++;
  if (recon[i]![j] !== t) {
    wrong++;
    if (twinLists[t]!.length) wrongTwins++;
  }
}));

// Per twin position (true prefix): does the true token re-encode nearest (squared L2) among it and its twins?
const observed: Tensor[] = [];
for (const b of cap.source.batches(1)) observed.push(noGrad(() => b.hidden.squeeze(0).float().clone()));
function twinWins(device: DevicePart): { positions: number; true_wins: number } {
  let n = 0, wins = 0;
  for (let i = 0; i < truth.length && n < Number(a.positions); i++) {
    const w = truth[i]!;
    for (let t = 1; t < w.length && n < Number(a.positions); t++) {
      const twins = twinLists[w[t]!]!;
      if (!twins.length) continue;
      const rows = [w[t]!, ...twins].map((c) => [...w.slice(0, t), c]);
      const d = noGrad(() => tidy(() => device.forward(idTensor(rows), {}).hidden.select(1, t).sub(observed[i]!.narrow(0, t, 1)).pow(2).sum(1).toNumbers()));
      n++;
      if (d.indexOf(Math.min(...d)) === 0) wins++;
    }
  }
  return { positions: n, true_wins: wins };
}

// Fresh estimates on the capture's batches with chosen ids and position weights.
const batches = ownBatches(cap.source, pre);
function fitOn(rowsOf: (i: number) => number[], weightOf: (i: number) => number[]): number {
  let off = 0;
  const data: FitBatch[] = batches.map((b) => {
    const n = b.hidden.size(0), T = b.hidden.size(1);
    const idx = Array.from({ length: n }, (_, j) => off + j);
    off += n;
    const pad = (r: number[]) => [...r, ...Array(T - r.length).fill(0)];
    return { ids: idTensor(idx.map((i) => pad(rowsOf(i)))), mask: b.attentionMask, obs: b.hidden, weight: noGrad(() => tidy(() => tensor(idx.flatMap((i) => pad(weightOf(i))), [n, T]).mul(b.attentionMask.float()))) };
  });
  const est = DeviceEstimate.create(pre, { rank: 8, targets: ['q', 'v'] }, 0);
  try {
    est.fit(data, { steps: 550, lr: 1e-2, l2Weight: 1, windows: 16 });
    est.freeze();
    return hiddenDrift(dev.part, est.device, truth);
  } finally {
    est.dispose();
    for (const d of data) {
      d.ids.dispose();
      d.weight.dispose();
    }
  }
}
const ones = (i: number) => truth[i]!.map(() => 1);
const tokenRight = (i: number) => truth[i]!.map((t, j) => (recon[i]![j] === t ? 1 : 0));
const prefixRight = (i: number) => {
  let ok = true;
  return truth[i]!.map((t, j) => ((ok = ok && recon[i]![j] === t) ? 1 : 0));
};
const round = (x: number, d = 4) => Number(x.toFixed(d));
const out = {
  model: 'stories260K', split: k, victim: `code_alpaca_2k.json outputs, first ${texts.length}`, windows: truth.length,
  drift: round(hiddenDrift(dev.part, pre, truth)),
  attack: {
    exact_windows: round(exactWindows(truth, recon)), token_accuracy: round(1 - wrong / positions), drift_left: round(hiddenDrift(dev.part, estimate, truth)), invert_seconds: round(invertSeconds, 1),
    wrong_tokens: wrong, wrong_tokens_with_twins: wrongTwins,
  },
  tokens_with_twins: twinLists.filter((l) => l.length).length,
  twin_positions: { with_estimate: twinWins(estimate), with_victim_device: twinWins(dev.part) },
  fresh_fit_drift_left: {
    true_ids: round(fitOn((i) => truth[i]!, ones)),
    reconstructions_every_position: round(fitOn((i) => recon[i]!, ones)),
    reconstructions_right_tokens: round(fitOn((i) => recon[i]!, tokenRight)),
    reconstructions_right_prefixes: round(fitOn((i) => recon[i]!, prefixRight)),
  },
};
for (const o of observed) o.dispose();
process.stdout.write(`${JSON.stringify(out)}\n`);

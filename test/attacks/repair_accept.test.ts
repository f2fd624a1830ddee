// The repair's acceptance rule under residual drift: right tokens re-encode with some mismatch when the
// device part the server re-encodes with is not quite the victim's, so accepting within a few σ spares
// searching them, while wrong tokens (far beyond) are still replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, noGrad, tidy, randn, full, manualSeed, liveTensors, ids as idsTensor, type Tensor } from '../../src/torch/index.js';
import { padBatch } from '../../src/data/windows.js';
import { CachedPrefixEncoder } from '../../src/attacks/prefix_encoder.js';
import { repair, type RepairContext } from '../../src/attacks/revertlm/repair.js';
import { REVERTLM_DEFAULTS } from '../../src/attacks/revertlm/index.js';
import { sentences, tiny } from './helpers.js';

test('under residual drift, accepting within 3σ scores far fewer candidates and repairs the same wrong tokens', () => {
  const live0 = liveTensors();
  const t = tiny(41);
  try {
    const { device } = t.knowledge(2);
    const V = t.tokenizer.vocabSize;
    const seqs = sentences(6, 10).map((s) => t.tokenizer.encode(s, { addBos: true }));
    const { ids, mask } = padBatch(seqs);
    const [B, T] = ids.shape as [number, number];
    manualSeed(5);
    // Observed states: the true tokens' states with a perturbation of ~3 % of their norm per position,
    // as an imperfect estimate of a personalized device leaves them.
    const obs = noGrad(() => tidy(() => {
      const h = device.forward(ids, { attentionMask: mask }).hidden;
      const noise = randn(h.shape);
      return h.add(noise.mul(h.norm(2, -1, true).div(noise.norm(2, -1, true)).mul(0.03)));
    }));
    const truth = ids.toNumbers();
    const guess = idsTensor(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, p) => (p % 4 === 2 ? (truth[b * T + p]! + 5) % V : truth[b * T + p]!))));
    const scores = noGrad(() => tidy(() => randn([B, T, V]).scatter(2, ids.unsqueeze(-1), full([B, T, 1], 2.5))));
    const counted = (acceptScale: number): { out: Tensor; scored: number } => {
      let scored = 0;
      const o: RepairContext = {
        ...REVERTLM_DEFAULTS.repair, acceptScale, wideK: 0, l2Weight: 1, fixFirst: true,
        proposals: () => ({ sources: [scores.clone()], logProb: F.logSoftmax(scores, -1) }),
        encoder: (d, ob, m, opt) => {
          const enc = new CachedPrefixEncoder(d, ob, m, opt);
          const score = enc.score.bind(enc);
          enc.score = (rows, toks) => ((scored += toks.length), score(rows, toks));
          return enc;
        },
      };
      return { out: repair(device, guess, obs, mask, o), scored };
    };
    const tight = counted(1);
    const three = counted(3);
    const real = mask.toNumbers();
    const wrongLeft = (x: Tensor) => x.toNumbers().filter((v, i) => real[i]! > 0 && i % T > 0 && v !== truth[i]).length;
    const wrongBefore = wrongLeft(guess);
    assert.ok(wrongBefore > 5, 'the guess has wrong tokens to repair');
    assert.equal(wrongLeft(three.out), 0, 'accepting within 3σ still replaces every wrong token');
    assert.equal(wrongLeft(tight.out), 0, 'accepting within 1σ replaces every wrong token');
    assert.ok(three.scored < tight.scored / 2, `3σ scored ${three.scored} candidates, 1σ ${tight.scored}: right tokens are searched needlessly`);
    for (const x of [ids, mask, obs, guess, scores, tight.out, three.out]) x.dispose();
  } finally {
    t.dispose();
  }
  assert.equal(liveTensors(), live0);
});

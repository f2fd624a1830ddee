// Fixture for the repair tests: a tiny model's windows whose observed states are the true tokens'
// states perturbed by ~3 % of their norm per position (the residual drift an imperfect estimate of a
// personalized device leaves), a guess with every fourth token wrong, and proposal scores that rank
// the true token high. run() repairs the guess, counting the candidates the encoder re-encodes.
import { F, noGrad, tidy, randn, full, arange, manualSeed, ids as idsTensor, type Tensor } from '../../src/torch/index.js';
import { padBatch } from '../../src/data/windows.js';
import { CachedPrefixEncoder } from '../../src/attacks/prefix_encoder.js';
import { repair, type RepairContext } from '../../src/attacks/revertlm/repair.js';
import { REVERTLM_DEFAULTS } from '../../src/attacks/revertlm/index.js';
import { sentences, tiny } from './helpers.js';

export interface DriftedRepair {
  guess: Tensor;
  /** Vocabulary size, and (fragment) the id the guess holds at every fourth position. */
  vocab: number;
  fragmentId: number;
  /** Wrong tokens left at real positions after position 0. */
  wrongLeft(x: Tensor): number;
  run(o: Partial<RepairContext>): { out: Tensor; scored: number };
  dispose(): void;
}

/**
 * separators: the windows are cut from one token stream of the sentences with EOS between them (as
 * the runtime sends short messages), the guess has another token wherever the truth has EOS (and is
 * otherwise right), and no source proposes EOS (the learned stages rarely saw one mid-window).
 * twin: the word "a" gets a near-copy of the word "the"'s input embedding before the traffic is
 * made, the guess has "a" wherever the truth has "the" (and is otherwise right), and no source ranks
 * "the" within its top-K: a wrong token that stands out against everything proposed.
 * fragment: the wrong tokens of the guess are all one id the true windows never hold (fragmentId).
 * separatorTwin (with separators): that id gets a near-copy of EOS's input embedding and stands in
 * the guess wherever the truth has EOS, re-encoding as EOS does (stories260K's unused rows).
 */
export function driftedRepair(seed = 41, o: { twin?: boolean; separators?: boolean; fragment?: boolean; separatorTwin?: boolean } = {}): DriftedRepair {
  const t = tiny(seed);
  const { device } = t.knowledge(2);
  const V = t.tokenizer.vocabSize;
  const eos = t.tokenizer.eosTokenId!;
  const stream = sentences(12, 10).flatMap((s) => t.tokenizer.encode(s, { addBos: false, addEos: true }));
  const seqs = o.separators ? Array.from({ length: 6 }, (_, i) => stream.slice(i * 12, i * 12 + 12)) : sentences(6, 10).map((s) => t.tokenizer.encode(s, { addBos: true }));
  const { ids, mask } = padBatch(seqs);
  const [B, T] = ids.shape as [number, number];
  manualSeed(5);
  const [right, twin] = ['the', 'a'].map((w) => t.tokenizer.encode(w, { addBos: false })[0]!) as [number, number];
  const unused = Array.from({ length: V }, (_, i) => V - 1 - i).find((x) => !ids.toNumbers().includes(x))!;
  if (o.separatorTwin) {
    noGrad(() => tidy(() => {
      const E = device.embeddingMatrix;
      E.select(0, unused).copy_(E.select(0, eos).mul(1.001));
    }));
  }
  if (o.twin) {
    noGrad(() => tidy(() => {
      const E = device.embeddingMatrix;
      const e = E.select(0, right);
      const r = randn(e.shape);
      E.select(0, twin).copy_(e.add(r.mul(e.norm(2, -1, true).div(r.norm(2, -1, true)).mul(0.2))));
    }));
  }
  const obs = noGrad(() => tidy(() => {
    const h = device.forward(ids, { attentionMask: mask }).hidden;
    const noise = randn(h.shape);
    return h.add(noise.mul(h.norm(2, -1, true).div(noise.norm(2, -1, true)).mul(0.03)));
  }));
  const truth = ids.toNumbers();
  const real = mask.toNumbers();
  const wrong = (x: number, p: number) => (o.separators ? (x === eos ? (o.separatorTwin ? unused : right) : x) : o.twin ? (x === right ? twin : x) : p % 4 === 2 ? (o.fragment ? unused : (x + 5) % V) : x);
  const guess = idsTensor(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, p) => wrong(truth[b * T + p]!, p))));
  const scores = noGrad(() => tidy(() => {
    const s = randn([B, T, V]).scatter(2, ids.unsqueeze(-1), full([B, T, 1], 2.5));
    return o.twin ? s.maskedFill(arange(V).eq(right), -10) : o.separators ? s.maskedFill(arange(V).eq(eos), -10) : s;
  }));
  return {
    guess,
    vocab: V,
    fragmentId: unused,
    wrongLeft: (x) => x.toNumbers().filter((v, i) => real[i]! > 0 && i % T > 0 && v !== truth[i]).length,
    run(over) {
      let scored = 0;
      const o: RepairContext = {
        ...REVERTLM_DEFAULTS.repair, wideK: 0, l2Weight: 1, fixFirst: true,
        proposals: () => ({ sources: [scores.clone()], logProb: F.logSoftmax(scores, -1) }),
        encoder: (d, ob, m, opt) => {
          const enc = new CachedPrefixEncoder(d, ob, m, opt);
          const score = enc.score.bind(enc);
          enc.score = (rows, toks) => ((scored += toks.length), score(rows, toks));
          return enc;
        },
        ...over,
      };
      return { out: repair(device, guess, obs, mask, o), scored };
    },
    dispose() {
      for (const x of [ids, mask, obs, guess, scores]) x.dispose();
      t.dispose();
    },
  };
}

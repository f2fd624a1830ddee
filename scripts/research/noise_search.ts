// Research driver (issue 13, Gaussian target): how much of a window a plain re-encoding search can
// recover from traffic under the Gaussian defense, with no learned stage and no prior. Not part of the CLI.
// stories260K at split k: the victim's device (pretrained, or LoRA-personalized 1000 steps on its
// private text) sends every window of it once, float16 on the wire; the Gaussian defense at --level
// (σ = level × the RMS of the activations, clipped as the defense clips) is applied to the capture;
// then, left to right at every position, every token of the vocabulary is re-encoded on the kept
// prefix with the PRETRAINED device part (KV cache) and the nearest one (relative L2 + cosine) is kept
// (greedy; with --beam W, the W prefixes of least summed distance per window are kept instead). Also
// the same with the true prefix (per-position accuracy, an upper bound of the greedy one; greedy only).
// Usage (after `npx tsc -p tsconfig.json`):
//   node dist/scripts/research/noise_search.js --personalize lora --level 2
// Prints one JSON object: ROUGE-L of the greedy decode, token accuracies, exact windows, seconds.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel, loadTokenizer, splitModel } from '../../src/models/index.js';
import { personalizeDevice } from '../../src/experiments/index.js';
import { CachedPrefixEncoder } from '../../src/attacks/prefix_encoder.js';
import { GaussianDefense } from '../../src/defenses/gaussian.js';
import { loadTexts } from '../../src/data/index.js';
import { noGrad, tensor } from '../../src/torch/index.js';
import { scoreAll } from '../../src/metrics/index.js';

const { values: a } = parseArgs({
  options: {
    shared: { type: 'string', default: '/work/shared' },
    split: { type: 'string', default: '4' },
    level: { type: 'string', default: '2' },
    personalize: { type: 'string', default: 'lora' }, // none | lora
    'l2-weight': { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    beam: { type: 'string', default: '1' },
  },
});
const modelDir = join(a.shared!, 'models/stories260K');
const k = Number(a.split), level = Number(a.level), l2Weight = Number(a['l2-weight']);
const mode = a.personalize === 'none' ? 'none' : 'lora';
const victim = loadTexts({ format: 'separated', path: join(a.shared!, 'data/tinystories_sample.txt'), separator: '<|endoftext|>' });
const lm = loadModel(modelDir);
const tok = loadTokenizer(modelDir);
const pre = splitModel(lm, k).device;
const V = lm.config.vocabSize;
const dev = await personalizeDevice({ modelDir, splitPoint: k, texts: victim, personalization: { mode, steps: mode === 'none' ? 0 : 1000, lr: 1e-3, rank: 8, targets: ['q', 'v'], seed: 0 }, seq: 32, wireDtype: 'float16' });
const cap = dev.openCapture();
const truth = cap.referenceIds;
const defense = new GaussianDefense({ level, seed: Number(a.seed) });
let off = 0, rightWithTruePrefix = 0, rightGreedy = 0, positions = 0, exact = 0;
const decoded: string[] = [];
const t0 = performance.now();
const W = Number(a.beam);
for (const b of cap.source.batches(32)) {
  const B = b.hidden.size(0), T = b.hidden.size(1);
  const obs = noGrad(() => defense.apply(b.hidden));
  if (W > 1) {
    // Row b·W + j holds window b's j-th hypothesis; at first only j = 0 is alive (the others would repeat it).
    const rep = tensor(Array.from({ length: B * W }, (_, r) => Math.floor(r / W)), [B * W], { dtype: 'int64' });
    const obsW = noGrad(() => obs.indexSelect(0, rep)), maskW = noGrad(() => b.attentionMask.indexSelect(0, rep));
    rep.dispose();
    const enc = new CachedPrefixEncoder(pre, obsW, maskW, { l2Weight });
    let hyps: number[][] = Array.from({ length: B * W }, () => []);
    let total = Array.from({ length: B * W }, (_, r) => (r % W === 0 ? 0 : Infinity));
    for (let t = 0; t < T; t++) {
      const rows: number[] = [], toks: number[] = [];
      for (let r = 0; r < B * W; r++) if (Number.isFinite(total[r]!)) for (let v = 0; v < V; v++) { rows.push(r); toks.push(v); }
      const d = enc.score(rows, toks);
      const parents: number[] = [], chosen: number[] = [], nextTotal: number[] = [], nextHyps: number[][] = [];
      for (let w = 0; w < B; w++) {
        const cands: [number, number, number][] = [];
        rows.forEach((r, i) => { if (Math.floor(r / W) === w) cands.push([total[r]! + d[i]!, r, toks[i]!]); });
        cands.sort((x, y) => x[0] - y[0]);
        for (let j = 0; j < W; j++) {
          const c = cands[Math.min(j, cands.length - 1)]!;
          parents.push(c[1]); chosen.push(c[2]);
          nextTotal.push(j < cands.length ? c[0] : Infinity);
          nextHyps.push([...hyps[c[1]]!, c[2]]);
        }
      }
      enc.advanceFrom(parents, chosen);
      total = nextTotal; hyps = nextHyps;
    }
    enc.dispose();
    for (const x of [obsW, maskW]) x.dispose();
    for (let w = 0; w < B; w++) {
      const best = hyps[w * W]!, tr = truth[off + w]!;
      rightGreedy += tr.filter((x, i) => x === best[i]).length;
      positions += tr.length;
      exact += Number(tr.every((x, i) => x === best[i]));
      decoded.push(tok.decode(best.slice(0, tr.length), { skipSpecialTokens: true }));
    }
    obs.dispose();
    off += B;
    continue;
  }
  for (const greedy of [false, true]) {
    const enc = new CachedPrefixEncoder(pre, obs, b.attentionMask, { l2Weight });
    const cur: number[][] = Array.from({ length: B }, () => []);
    for (let t = 0; t < T; t++) {
      const rows: number[] = [], toks: number[] = [];
      for (let r = 0; r < B; r++) for (let v = 0; v < V; v++) { rows.push(r); toks.push(v); }
      const d = enc.score(rows, toks);
      const keep: number[] = [];
      for (let r = 0; r < B; r++) {
        let best = 0;
        for (let v = 1; v < V; v++) if (d[r * V + v]! < d[r * V + best]!) best = v;
        const w = truth[off + r]!;
        if (t < w.length) {
          if (greedy) rightGreedy += Number(best === w[t]);
          else { rightWithTruePrefix += Number(best === w[t]); positions++; }
        }
        keep.push(greedy ? best : (w[t] ?? 0));
        cur[r]!.push(best);
      }
      enc.advance(keep);
    }
    if (greedy) for (let r = 0; r < B; r++) {
      const w = truth[off + r]!;
      exact += Number(w.every((x, i) => x === cur[r]![i]));
      decoded.push(tok.decode(cur[r]!.slice(0, w.length), { skipSpecialTokens: true }));
    }
    enc.dispose();
  }
  obs.dispose();
  off += B;
}
const s = scoreAll([...cap.references], decoded);
process.stdout.write(`${JSON.stringify({
  split: k, level, personalize: mode, l2Weight, beam: W, windows: off, positions,
  rougeL: +s.rougeL.toFixed(3), token_acc_greedy: +(rightGreedy / positions).toFixed(3), token_acc_true_prefix: W > 1 ? null : +(rightWithTruePrefix / positions).toFixed(3),
  exact_windows: exact, seconds: +((performance.now() - t0) / 1000).toFixed(0),
})}\n`);
dev.dispose();
process.exit(0);

// Beam search for RevertLM's generator with shallow fusion: the target LM's next-token
// log-probabilities (the server holds the pretrained model) are added to the generator's with
// weight λ. Every sequence's length is known from the attention mask, so no EOS is needed.
import { Tensor, F, noGrad, tidy, keep, cat, full, arange, tensor, where } from '../../torch/index.js';
import type { CausalLM } from '../../models/types.js';
import type { Generator } from './generator.js';
import { KVStore } from '../../models/kv_cache.js';

export interface BeamOptions {
  beam: number;
  /** Target LM for shallow fusion (null: none). */
  lm: CausalLM | null;
  lambda: number;
  /** Token forced at position 0 of each sequence (identified from the traffic), or null to predict it. */
  first: readonly number[] | null;
  /** Real length of every sequence. */
  lengths: number[];
}

const NEG = -1e9;

/**
 * Returns the beam's token sequences [B, beam, Tmax] (best first) and their scores [B, beam].
 * mem: generator memory [B, T, d]; memMask [B, T].
 */
export function beamSearch(gen: Generator, mem: Tensor, memMask: Tensor, o: BeamOptions): { ids: Tensor; scores: Tensor } {
  return noGrad(() => {
    const [B, T, d] = mem.shape as [number, number, number];
    const W = o.beam;
    const V = gen.vocab;
    const Tmax = Math.min(T, Math.max(...o.lengths));
    const memW = keep(mem.unsqueeze(1).expand(B, W, T, d).reshape(B * W, T, d).contiguous());
    const maskW = keep(memMask.unsqueeze(1).expand(B, W, T).reshape(B * W, T).contiguous());
    const memKV = tidy(() => gen.memoryKV(memW).map(([k, v]) => [keep(k), keep(v)] as [Tensor, Tensor]));
    // Both decoders run incrementally on KV caches that follow the beams (reordered every step).
    let genCache = new KVStore();
    const usePrior = o.lm !== null && o.lambda > 0;
    let lmCache = usePrior ? (o.lm!.newCache() as KVStore) : null;
    let seqs = keep(full([B * W, 0], 0, { dtype: 'int64' }));
    let prevTok = keep(full([B * W], gen.start, { dtype: 'int64' }));
    let scores = keep(tidy(() => tensor(Array.from({ length: B * W }, (_, i) => (i % W === 0 ? 0 : NEG)), [B, W])));
    const lens = tensor(o.lengths.flatMap((l) => new Array<number>(W).fill(l)), [B * W], { dtype: 'int64' });
    const first = o.first ? tensor(o.first.flatMap((x) => new Array<number>(W).fill(x)), [B * W], { dtype: 'int64' }) : null;
    try {
      for (let t = 0; t < Tmax; t++) {
        const next = tidy(() => {
          let logp = F.logSoftmax(gen.step(prevTok, t, memW, memKV, maskW, genCache), -1);
          if (lmCache && t > 0) {
            // The prior's prediction for token t, from the tokens before it (the last one fed now).
            const lmLogits = o.lm!.forward(prevTok.unsqueeze(1), { cache: lmCache }).logits.select(1, 0);
            logp = logp.add(F.logSoftmax(lmLogits.narrow(-1, 0, V), -1).mul(o.lambda));
          }
          if (t === 0 && first) logp = full([B * W, V], NEG).maskedFill(arange(V).unsqueeze(0).eq(first.unsqueeze(1)), 0);
          // Sequences already complete keep their score: only token 0 (padding) at no cost.
          const done = lens.le(t).unsqueeze(1);
          logp = where(done, forced(B * W, V, 0), logp);
          const total = scores.reshape(B * W, 1).add(logp).reshape(B, W * V);
          const [vals, idx] = total.topk(W, -1);
          const beamIdx = idx.div(V).floor().long();
          const tok = idx.remainder(V).long().reshape(-1);
          const rows = beamIdx.add(arange(0, B * W, W).unsqueeze(1)).reshape(-1);
          return { seqs: cat([seqs.indexSelect(0, rows), tok.reshape(-1, 1)], 1), scores: vals, tok, rows };
        });
        const g = genCache.select(next.rows);
        genCache.dispose();
        genCache = g;
        if (lmCache) {
          const l = lmCache.select(next.rows);
          lmCache.dispose();
          lmCache = l;
        }
        for (const x of [seqs, scores, prevTok, next.rows]) x.dispose();
        seqs = keep(next.seqs);
        scores = keep(next.scores);
        prevTok = keep(next.tok);
      }
      return { ids: seqs.reshape(B, W, Tmax), scores: scores.clone() };
    } finally {
      for (const x of [seqs, scores, prevTok, memW, maskW, lens, ...memKV.flat()]) x.dispose();
      first?.dispose();
      genCache.dispose();
      lmCache?.dispose();
    }
  });
}

/** Log-probabilities [N, V] that put everything on one token. */
function forced(N: number, V: number, token: number): Tensor {
  return tidy(() => full([N, V], NEG).maskedFill(arange(V).eq(token).unsqueeze(0), 0));
}

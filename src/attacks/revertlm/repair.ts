// Re-encoding repair. The device part is causal, so its state at position t depends only on
// tokens 0..t: once a prefix re-encodes to the observed states, the token at t can be checked on
// its own. Left to right, every position whose re-encoded state disagrees with the observed one
// (beyond `tolerance`) is replaced by the best of the proposals — the union of each proposal
// source's top-K (stage 2, stage 1, the language prior, …) — if one of them matches better.
// Cost: up to (sources·K + 1) prefix forwards per checked position.
import { Tensor, noGrad, tidy, ids as idsTensor } from '../../torch/index.js';
import type { DevicePart } from '../../models/types.js';
import { positionDistance } from '../reencode.js';
import { lengthsOf } from '../data.js';

export interface RepairOptions {
  /** Proposals tried per source and position. */
  topK: number;
  /** Where no top-K proposal re-encodes within tolerance, try each source's ranks up to this. */
  escalateK: number;
  /** Left-to-right passes (proposals are recomputed on the repaired text before each). */
  maxPasses: number;
  /** Positions whose mismatch is at most this are accepted as they are. */
  tolerance: number;
}

export interface RepairContext extends RepairOptions {
  l2Weight: number;
  bos: number | null;
  /** Proposal scores, one [B, T, V] tensor per source, given the current reconstruction [B, T]. */
  proposals: (cur: Tensor) => Tensor[];
}

/** Per-position mismatch of token rows against the observed states (rows: [T_b] each, obs rows aligned). */
function mismatch(device: DevicePart, rows: number[][], obs: Tensor, mask: Tensor, o: RepairContext): number[][] {
  return noGrad(() =>
    tidy(() => {
      const T = obs.size(1);
      const padded = rows.map((r) => [...r, ...new Array<number>(T - r.length).fill(0)]);
      const ids = idsTensor(padded);
      const h = device.forward(ids, { attentionMask: mask }).hidden;
      const d = positionDistance(h, obs, mask, { skipFirst: o.bos !== null, l2Weight: o.l2Weight }).toNumbers();
      return rows.map((_, i) => d.slice(i * T, (i + 1) * T));
    }),
  );
}

/** Mismatch at position t of each candidate prefix seqs[i] (length t+1) for batch row owner[i]. */
function prefixMismatch(device: DevicePart, seqs: number[][], owner: number[], t: number, obs: Tensor, mask: Tensor, l2Weight: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < seqs.length; i += CHUNK) {
    const part = seqs.slice(i, i + CHUNK);
    const who = owner.slice(i, i + CHUNK);
    out.push(...noGrad(() =>
      tidy(() => {
        const rows = idsTensor(who);
        const m = mask.indexSelect(0, rows).narrow(1, 0, t + 1);
        const h = device.forward(idsTensor(part), { attentionMask: m }).hidden.narrow(1, t, 1);
        const ob = obs.indexSelect(0, rows).narrow(1, t, 1);
        return positionDistance(h, ob, m.narrow(1, t, 1), { skipFirst: false, l2Weight }).reshape(-1).toNumbers();
      }),
    ));
  }
  return out;
}

/** Candidate prefixes evaluated per device forward. */
const CHUNK = 512;

export function repair(device: DevicePart, init: Tensor, obs: Tensor, mask: Tensor, o: RepairContext): Tensor {
  const [B, T] = init.shape as [number, number];
  const lens = lengthsOf(mask);
  const flat = init.toNumbers();
  const cur = Array.from({ length: B }, (_, b) => flat.slice(b * T, b * T + T));
  const first = o.bos !== null ? 1 : 0;
  const deepest = Math.max(o.topK, o.escalateK);
  for (let pass = 0; pass < o.maxPasses; pass++) {
    // Ranked proposals per source: [source][(b * T + t) * R + rank].
    const ranked = noGrad(() =>
      tidy(() => o.proposals(idsTensor(cur)).map((s) => s.topk(Math.min(deepest, s.size(-1)), -1)[1].toNumbers())),
    );
    const R = Math.min(deepest, Math.floor(ranked[0]!.length / (B * T)));
    let dist = mismatch(device, cur, obs, mask, o);
    let changed = 0;
    for (let t = first; t < T; t++) {
      let open = Array.from({ length: B }, (_, b) => b).filter((b) => t < lens[b]! && dist[b]![t]! > o.tolerance);
      const best = new Map<number, { tok: number; dist: number }>();
      const tried = new Map<number, Set<number>>(open.map((b) => [b, new Set([cur[b]![t]!])]));
      // Round 1: each source's top-K; round 2 (rows still unmatched): ranks K..escalateK.
      for (const [from, to] of [[0, Math.min(o.topK, R)], [Math.min(o.topK, R), R]] as const) {
        if (open.length === 0 || from >= to) break;
        const seqs: number[][] = [];
        const owner: number[] = [];
        const tokens: number[] = [];
        for (const b of open) {
          const seen = tried.get(b)!;
          for (let r = from; r < to; r++) {
            for (const src of ranked) {
              const tok = src[(b * T + t) * R + r]!;
              if (seen.has(tok)) continue;
              seen.add(tok);
              const pre = cur[b]!.slice(0, t + 1);
              pre[t] = tok;
              seqs.push(pre);
              owner.push(b);
              tokens.push(tok);
            }
          }
        }
        if (seqs.length === 0) break;
        const d = prefixMismatch(device, seqs, owner, t, obs, mask, o.l2Weight);
        for (let i = 0; i < seqs.length; i++) {
          const b = owner[i]!;
          if (d[i]! < (best.get(b)?.dist ?? dist[b]![t]!)) best.set(b, { tok: tokens[i]!, dist: d[i]! });
        }
        open = open.filter((b) => (best.get(b)?.dist ?? Infinity) > o.tolerance);
      }
      if (best.size === 0) continue;
      for (const [b, { tok }] of best) cur[b]![t] = tok;
      changed += best.size;
      // Later positions of the changed rows now see a different prefix: refresh their mismatch.
      dist = mismatch(device, cur, obs, mask, o);
    }
    if (changed === 0) break;
  }
  return idsTensor(cur);
}

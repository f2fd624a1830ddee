// Re-encoding repair. The device part is causal, so its state at position t depends only on
// tokens 0..t: once a prefix re-encodes to the observed states, the token at t can be checked on
// its own. Left to right, every position whose re-encoded state disagrees with the observed one
// (beyond `tolerance`) is replaced by the best of the proposals — the union of each proposal
// source's top-K (stage 2, stage 1, the language prior, …) — if one of them matches better.
// Candidates are scored on the accepted prefix's KV cache (prefix_encoder.ts): one position per
// candidate, so a pass is linear in the window length.
import { Tensor, noGrad, tidy, ids as idsTensor } from '../../torch/index.js';
import type { DevicePart } from '../../models/types.js';
import { lengthsOf } from '../data.js';
import { CachedPrefixEncoder, type PrefixEncoder, type PrefixEncoderOptions } from '../prefix_encoder.js';

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
  /** Keep position 0 as given (token 0 is identified from the traffic, see framing.ts). */
  fixFirst: boolean;
  /** Proposal scores, one [B, T, V] tensor per source, given the current reconstruction [B, T]. */
  proposals: (cur: Tensor) => Tensor[];
  /** Re-encoding engine; default the KV-cached one. */
  encoder?: (device: DevicePart, obs: Tensor, mask: Tensor, o: PrefixEncoderOptions) => PrefixEncoder;
}

/** The KV-cached encoder unless a test asks for the full-prefix reference. */
const cachedEncoder = (d: DevicePart, obs: Tensor, mask: Tensor, o: PrefixEncoderOptions): PrefixEncoder => new CachedPrefixEncoder(d, obs, mask, o);

export function repair(device: DevicePart, init: Tensor, obs: Tensor, mask: Tensor, o: RepairContext): Tensor {
  const [B, T] = init.shape as [number, number];
  const lens = lengthsOf(mask);
  const flat = init.toNumbers();
  const cur = Array.from({ length: B }, (_, b) => flat.slice(b * T, b * T + T));
  const first = o.fixFirst ? 1 : 0;
  const deepest = Math.max(o.topK, o.escalateK);
  const makeEncoder = o.encoder ?? cachedEncoder;
  for (let pass = 0; pass < o.maxPasses; pass++) {
    // Ranked proposals per source: [source][(b * T + t) * R + rank].
    const ranked = noGrad(() =>
      tidy(() => o.proposals(idsTensor(cur)).map((s) => s.topk(Math.min(deepest, s.size(-1)), -1)[1].toNumbers())),
    );
    const R = Math.min(deepest, Math.floor(ranked[0]!.length / (B * T)));
    let changed = 0;
    const enc = makeEncoder(device, obs, mask, { l2Weight: o.l2Weight });
    try {
      for (let t = 0; t < T; t++) {
        if (t >= first) changed += repairPosition(enc, cur, lens, t, ranked, R, o);
        enc.advance(cur.map((r) => r[t]!));
      }
    } finally {
      enc.dispose();
    }
    if (changed === 0) break;
  }
  return idsTensor(cur);
}

/**
 * Position t of every window whose current token re-encodes beyond tolerance: tries each source's
 * top-K, then ranks K..escalateK for the rows still unmatched, and keeps the best-matching token.
 * Returns the number of windows changed.
 */
function repairPosition(enc: PrefixEncoder, cur: number[][], lens: number[], t: number, ranked: number[][], R: number, o: RepairContext): number {
  const T = cur[0]!.length;
  const active = cur.map((_, b) => b).filter((b) => t < lens[b]!);
  if (active.length === 0) return 0;
  const dCur = enc.score(active, active.map((b) => cur[b]![t]!));
  const now = new Map(active.map((b, i) => [b, dCur[i]!]));
  let open = active.filter((b) => now.get(b)! > o.tolerance);
  const best = new Map<number, { tok: number; dist: number }>();
  const tried = new Map<number, Set<number>>(open.map((b) => [b, new Set([cur[b]![t]!])]));
  // Round 1: each source's top-K; round 2 (rows still unmatched): ranks K..escalateK.
  for (const [from, to] of [[0, Math.min(o.topK, R)], [Math.min(o.topK, R), R]] as const) {
    if (open.length === 0 || from >= to) break;
    const owner: number[] = [];
    const tokens: number[] = [];
    for (const b of open) {
      const seen = tried.get(b)!;
      for (let r = from; r < to; r++) {
        for (const src of ranked) {
          const tok = src[(b * T + t) * R + r]!;
          if (seen.has(tok)) continue;
          seen.add(tok);
          owner.push(b);
          tokens.push(tok);
        }
      }
    }
    if (tokens.length === 0) break;
    const d = enc.score(owner, tokens);
    for (let i = 0; i < tokens.length; i++) {
      const b = owner[i]!;
      if (d[i]! < (best.get(b)?.dist ?? now.get(b)!)) best.set(b, { tok: tokens[i]!, dist: d[i]! });
    }
    open = open.filter((b) => (best.get(b)?.dist ?? Infinity) > o.tolerance);
  }
  for (const [b, { tok }] of best) cur[b]![t] = tok;
  return best.size;
}

// Re-encoding repair. The device part is causal, so its state at position t depends only on
// tokens 0..t: once a prefix re-encodes to the observed states, the token at t can be checked on
// its own. Left to right, every position whose re-encoded state disagrees with the observed one
// (beyond `tolerance`) is replaced by the best of the proposals — the union of each proposal
// source's top-K (stage 2, stage 1, the language prior, …) — if one of them matches better.
// Candidates are scored on the accepted prefix's KV cache (prefix_encoder.ts): one position per
// candidate, so a pass is linear in the window length.
//
// Re-encoding evidence is never trusted alone. When the victim's device part drifted from the one
// re-encoding uses (personalisation, an imperfect estimate of it), even the true tokens re-encode
// with some mismatch, and a junk token may happen to sit closer. So (1) the tolerance is calibrated
// from the traffic: σ, the median mismatch of the starting reconstruction, is the mismatch a right
// token typically has, and positions within max(tolerance, acceptScale·σ) are accepted as they
// are; (2) a replacement must win on a combined score, mismatch/σ − priorWeight·log p(token), where
// p is what the learned stages and the language prior give the token at that position — a token
// they find implausible must re-encode far better (in units of σ) to replace a plausible one. On
// undrifted traffic σ is tiny and the mismatch decides alone. At deep splits the learned stages get
// most tokens wrong, so the starting reconstruction's median mismatch is a wrong token's: σ is taken
// at a lower quantile and recomputed from the repaired text before every later pass, and where no
// source's ranks come near the observed state (the right token ranked too low by every source), a
// wide round tries the combined log-probability's top `wideK` (mail-llama-deep, k = 11, 16 windows:
// exact windows 0.63 → 1.00 with the device's exact weights and with a personalized one; README).
// Under residual drift most right tokens lie beyond the acceptance threshold, and searching deeper
// there finds nothing: a position whose chosen token re-encodes within `standOut` of every other token
// tried stops after the round that showed it (counted, stories260K k = 4 drifted: the escalation and
// wide rounds ran at 2600 positions and won 24 replacements). Near-duplicates (" that" / "that")
// re-encode alike and the sources may propose only one, so stopped positions still try the chosen
// token's `neighbourK` nearest tokens by input embedding (src/attacks/README.md, "Stand-out stop").
import { Tensor, noGrad, tidy, arange, tensor, ids as idsTensor } from '../../torch/index.js';
import { positionDistance } from '../reencode.js';
import type { DevicePart } from '../../models/types.js';
import { lengthsOf } from '../data.js';
import { CachedPrefixEncoder, type PrefixEncoder, type PrefixEncoderOptions } from '../prefix_encoder.js';
import type { TokenGrammar } from './token_grammar.js';
import type { TwinSink } from './twin_ledger.js';
import { embeddingNeighbours, embeddingTwins } from '../embedding_relatives.js';

export interface RepairOptions {
  /** Proposals tried per source and position. */
  topK: number;
  /** Where no top-K proposal re-encodes within tolerance, try each source's ranks up to this. */
  escalateK: number;
  /** Left-to-right passes (proposals are recomputed on the repaired text before each). */
  maxPasses: number;
  /** Positions whose mismatch is at most this are accepted as they are (a floor under acceptScale·σ). */
  tolerance: number;
  /** Positions whose mismatch is at most this × σ (the right tokens' typical mismatch) are accepted as they are. */
  acceptScale: number;
  /** Weight of the learned stages' and prior's log-probability against mismatch/σ when choosing a replacement. */
  priorWeight: number;
  /** Quantile of the reconstruction's per-position mismatch taken as σ. */
  sigmaQuantile?: number;
  /** Recompute σ from the repaired reconstruction before every pass after the first. */
  recalibrate?: boolean;
  /**
   * Where nothing in the sources' ranks re-encodes within `wideAbove` × the accepted mismatch, try
   * the combined log-probability's ranks up to this (0 = off; the whole vocabulary when ≥ V).
   */
  wideK?: number;
  wideAbove?: number;
  /**
   * A position whose chosen token re-encodes within this fraction of every other token tried there
   * stands out: the search stops at it (0 or absent = off; only the mismatch thresholds decide).
   */
  standOut?: number;
  /**
   * Where the stand-out stop ends the search, still try the chosen token's this many nearest tokens
   * by input embedding: near-duplicates (" that" / "that") re-encode alike, so the chosen one can
   * stand out against everything the sources proposed while its twin, proposed by none, is right.
   */
  neighbourK?: number;
  /**
   * Try the tokenizer's BOS and EOS at every searched position beside the sources' proposals. The
   * runtime cuts one token stream with EOS (and BOS) between documents, so short messages put them
   * mid-window; the learned stages, trained on longer auxiliary documents, rarely propose them.
   */
  trySeparators?: boolean;
  /**
   * Keep to token sequences the tokenizer could have emitted (token_grammar.ts: whole UTF-8
   * characters, no token it never emits): other candidates are not tried, and a position whose token
   * breaks the grammar is searched even where it re-encodes within the accepted mismatch.
   */
  emittable?: boolean;
  /**
   * Tokens whose input embeddings have at least this cosine are twins: they re-encode alike, so
   * where residual drift leaves their mismatches within a factor 2 of each other the evidence cannot
   * choose and a prior does — the separators first (the runtime puts one between every two
   * documents), else the learned stages' and prior's likeliest (0 or absent = off).
   */
  twinCos?: number;
}

/** What the learned stages (and the prior) say about each position, given the current reconstruction. */
export interface ProposalScores {
  /** Proposal scores per source, [B, T, V] each; each source's top ranks are tried. */
  sources: Tensor[];
  /** Log-probability [B, T, V] of each token at each position (combined score); absent = mismatch alone. */
  logProb?: Tensor;
}

/** One round of the search: positions it ran at, candidates it re-encoded, positions whose token it replaced. */
export interface RoundCount {
  positions: number;
  candidates: number;
  won: number;
}

const ROUNDS = ['top_k', 'escalated', 'wide', 'neighbours', 'twins'] as const;

/**
 * Re-encoded candidates, counted (load-independent evidence of where the search spends its work):
 * the current token at every position, and each round's proposals — each source's top-K, the
 * escalation to ranks K..escalateK, the wide round — with how many replacements each round won.
 * Accumulates across calls; the caller resets it.
 */
export class RepairStats {
  positions = 0;
  current = 0;
  rounds: Record<(typeof ROUNDS)[number], RoundCount> = RepairStats.empty();
  private static empty(): RepairStats['rounds'] {
    const zero = (): RoundCount => ({ positions: 0, candidates: 0, won: 0 });
    return { top_k: zero(), escalated: zero(), wide: zero(), neighbours: zero(), twins: zero() };
  }
  get candidates(): number {
    return this.current + ROUNDS.reduce((a, r) => a + this.rounds[r].candidates, 0);
  }
  reset(): void {
    this.positions = this.current = 0;
    this.rounds = RepairStats.empty();
  }
  toJSON(): { positions: number; candidates: number; current: number; rounds: RepairStats['rounds'] } {
    return { positions: this.positions, candidates: this.candidates, current: this.current, rounds: structuredClone(this.rounds) };
  }
}

export interface RepairContext extends RepairOptions {
  l2Weight: number;
  /** Keep position 0 as given (token 0 is identified from the traffic, see framing.ts). */
  fixFirst: boolean;
  /** Proposals given the current reconstruction [B, T]. */
  proposals: (cur: Tensor) => ProposalScores;
  /** Where to count the re-encoded candidates (optional). */
  stats?: RepairStats;
  /** The separator ids `trySeparators` adds (the tokenizer's BOS and EOS). */
  separators?: readonly number[];
  /** The tokenizer's grammar `emittable` keeps to (absent: no check). */
  grammar?: TokenGrammar | null;
  /** Where every twin decision is recorded, for the capture-level pass (twin_ledger.ts); absent: not recorded. */
  twinSink?: TwinSink;
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
  const calibrate = (ids: Tensor) => {
    const sigma = typicalMismatch(device, ids, obs, mask, first, o.l2Weight, o.sigmaQuantile ?? 0.5);
    return { sigma, accept: Math.max(o.tolerance, o.acceptScale * sigma) };
  };
  let scale = calibrate(init);
  const neighbours = o.standOut && o.neighbourK ? embeddingNeighbours(device, o.neighbourK) : null;
  const twins = o.twinCos ? embeddingTwins(device, o.twinCos) : null;
  for (let pass = 0; pass < o.maxPasses; pass++) {
    if (pass > 0 && o.recalibrate) scale = noGrad(() => tidy(() => calibrate(idsTensor(cur))));
    // The proposals' scores stay tensors; each source's ranks are taken only at the rows a position
    // searches (PositionRanks): most positions are accepted as they are, and ranking every position of
    // [B, T, V] up front cost more than the rest of a clean search's bookkeeping. Log-probabilities [(b * T + t) * V + v].
    const { sources, logProb, wideScores } = noGrad(() => tidy(() => {
      const p = o.proposals(idsTensor(cur));
      const W = p.logProb && (o.wideK ?? 0) > 0 ? Math.min(o.wideK!, p.logProb.size(-1)) : 0;
      // Handles of our own (contiguous() copies nothing when already contiguous): the pass frees them,
      // and proposals may hand out tensors their caller keeps.
      return {
        sources: p.sources.map((x) => x.contiguous()),
        logProb: p.logProb && o.priorWeight > 0 ? p.logProb.toFloat32Array() : null,
        wideScores: W > 0 ? { W, scores: p.logProb!.contiguous() } : null,
      };
    }));
    let changed = 0;
    const enc = makeEncoder(device, obs, mask, { l2Weight: o.l2Weight });
    // Each row's grammar state before position t, carried along as the search fixes tokens.
    const grammar = o.emittable ? o.grammar ?? null : null;
    const states = grammar ? cur.map(() => grammar.start) : null;
    try {
      const ranked = new PositionRanks(sources, deepest);
      const wide = wideScores ? new PositionRanks([wideScores.scores], wideScores.W) : null;
      for (let t = 0; t < T; t++) {
        if (t >= first) changed += repairPosition(enc, cur, lens, t, ranked, logProb, wide, neighbours, twins, scale, o, states);
        enc.advance(cur.map((r) => r[t]!));
        if (grammar) cur.forEach((r, b) => (states![b] = grammar.after(states![b]!, r[t]!)));
      }
    } finally {
      enc.dispose();
      for (const x of [...sources, wideScores?.scores]) x?.dispose();
    }
    if (changed === 0) break;
  }
  return idsTensor(cur);
}

/** Re-encodes each row's candidates at the current position (those `admit` lets through), counted under `round`. */
function scoreCandidates(
  enc: PrefixEncoder, rows: readonly number[], tokensOf: (b: number) => Iterable<number>, admit: (b: number, tok: number) => boolean,
  stats: RepairStats | undefined, round: (typeof ROUNDS)[number],
): { owner: number[]; tokens: number[]; d: ArrayLike<number> } | null {
  const owner: number[] = [];
  const tokens: number[] = [];
  for (const b of rows) {
    for (const tok of tokensOf(b)) {
      if (!admit(b, tok)) continue;
      owner.push(b);
      tokens.push(tok);
    }
  }
  if (tokens.length === 0) return null;
  const d = enc.score(owner, tokens);
  if (stats) {
    stats.rounds[round].positions += rows.length;
    stats.rounds[round].candidates += tokens.length;
  }
  return { owner, tokens, d };
}

/** Twins whose mismatches are within this factor of the best one's are tied: the evidence cannot choose. */
const TWIN_RATIO = 10;
/**
 * Mismatches below this are rounding (float32 re-encoding of the true token gives ±1e-7): ties are
 * measured from it at least. stories260K's near-copies of EOS re-encode within it even with the
 * device's exact weights.
 */
const TWIN_FLOOR = 1e-6;

/**
 * Rows whose chosen token (the search's, or the current one where it was accepted) has twins: among
 * it and its twins, those re-encoding within TWIN_RATIO of the best are tied, and a separator among
 * them wins, else the one the learned stages and prior find likeliest. Where one re-encodes clearly
 * closest (undrifted traffic), the evidence decides as elsewhere.
 */
function chooseAmongTwins(
  enc: PrefixEncoder, t: number, rows: readonly number[], twins: (tok: number) => Int32Array,
  fits: (b: number, tok: number) => boolean, prior: (b: number, tok: number) => number, score: (b: number, tok: number, d: number) => number,
  chosen: (b: number) => { tok: number; dist: number }, best: Map<number, { tok: number; dist: number; score: number; round: number }>, o: RepairContext,
): void {
  const scored = scoreCandidates(enc, rows.filter((b) => twins(chosen(b).tok).length > 0), (b) => twins(chosen(b).tok), fits, o.stats, 'twins');
  if (!scored) return;
  const { owner, tokens, d } = scored;
  const byRow = new Map<number, { tok: number; dist: number }[]>();
  for (let j = 0; j < tokens.length; j++) {
    const b = owner[j]!;
    if (!byRow.has(b)) byRow.set(b, [chosen(b)]);
    byRow.get(b)!.push({ tok: tokens[j]!, dist: d[j]! });
  }
  const seps = new Set(o.trySeparators ? o.separators ?? [] : []);
  for (const [b, cands] of byRow) {
    const next = chooseTwin(cands, seps, (tok) => prior(b, tok));
    if (next && next.tok !== cands[0]!.tok) best.set(b, { ...next, score: score(b, next.tok, next.dist), round: ROUNDS.indexOf('twins') });
    if (o.twinSink && next) {
      const closest = cands.reduce((a, c) => (c.dist < a.dist ? c : a));
      o.twinSink(b, t, closest.tok, tiedTwins(cands).map((c) => c.tok).sort((x, y) => prior(b, y) - prior(b, x)));
    }
  }
}

/** Among a token and its near-copies, those whose mismatch is within TWIN_RATIO of the smallest (or of TWIN_FLOOR). */
function tiedTwins<C extends { tok: number; dist: number }>(cands: readonly C[]): C[] {
  const dmin = Math.min(...cands.map((c) => c.dist));
  return cands.filter((c) => c.dist <= TWIN_RATIO * Math.max(dmin, TWIN_FLOOR));
}

/**
 * Among a token and its near-copies, each with its mismatch: those within TWIN_RATIO of the
 * smallest (or of TWIN_FLOOR) are tied, and a separator among them is kept, else the one `prior` ranks highest; with
 * no tie, the closest. Null when no mismatch is a number.
 */
export function chooseTwin<C extends { tok: number; dist: number }>(cands: readonly C[], separators: ReadonlySet<number>, prior: (tok: number) => number): C | null {
  const tied = tiedTwins(cands);
  if (tied.length <= 1) return tied[0] ?? null;
  return tied.find((c) => separators.has(c.tok)) ?? tied.reduce((a, c) => (prior(c.tok) > prior(a.tok) ? c : a));
}

/** σ: the median per-position mismatch of the starting reconstruction over the batch's real positions. */
function typicalMismatch(device: DevicePart, init: Tensor, obs: Tensor, mask: Tensor, first: number, l2Weight: number, quantile: number): number {
  const vals = noGrad(() => tidy(() => {
    const d = positionDistance(device.forward(init, { attentionMask: mask }).hidden, obs, mask, { skipFirst: first > 0, l2Weight });
    let m = mask.gt(0);
    if (first > 0) m = m.logicalAnd(arange(mask.size(1)).ge(first).unsqueeze(0));
    return d.maskedSelect(m).toNumbers();
  }));
  vals.sort((a, b) => a - b);
  return vals.length ? Math.max(vals[Math.min(vals.length - 1, Math.floor(quantile * vals.length))]!, 1e-12) : 1e-12;
}

/**
 * Position t of every window whose current token re-encodes beyond the accepted mismatch: tries
 * each source's top-K, then ranks K..escalateK for the rows still unmatched, and keeps the token
 * with the best combined score (mismatch/σ − priorWeight·log p) if it beats the current one.
 * Returns the number of windows changed.
 */
function repairPosition(
  enc: PrefixEncoder, cur: number[][], lens: number[], t: number, ranked: PositionRanks,
  logProb: Float32Array | null, wide: PositionRanks | null, neighbours: ((tok: number) => Int32Array) | null,
  twins: ((tok: number) => Int32Array) | null,
  scale: { sigma: number; accept: number }, o: RepairContext, states: readonly number[] | null,
): number {
  const T = cur[0]!.length;
  const V = logProb ? logProb.length / (cur.length * T) : 0;
  const score = (b: number, tok: number, d: number) => d / scale.sigma - (logProb ? o.priorWeight * logProb[(b * T + t) * V + tok]! : 0);
  const active = cur.map((_, b) => b).filter((b) => t < lens[b]!);
  if (active.length === 0) return 0;
  // Every window's current token is scored (padding ones too: the encoder then keeps their expansion as is).
  const all = cur.map((_, b) => b);
  const dAll = enc.score(all, all.map((b) => cur[b]![t]!));
  if (o.stats) {
    o.stats.positions += active.length;
    o.stats.current += all.length;
  }
  const now = new Map(active.map((b) => [b, dAll[b]!]));
  const g = states ? o.grammar! : null;
  const fits = (b: number, tok: number) => !g || g.fits(states![b]!, tok);
  // Rows whose token no tokenizer would emit here: searched whatever their mismatch, until replaced.
  const broken = new Set(active.filter((b) => !fits(b, cur[b]![t]!)));
  const unresolved = (b: number) => broken.has(b) && !best.has(b);
  let open = active.filter((b) => now.get(b)! > scale.accept || broken.has(b));
  const best = new Map<number, { tok: number; dist: number; score: number; round: number }>();
  const tried = new Map<number, Set<number>>(open.map((b) => [b, new Set([cur[b]![t]!])]));
  // The smallest and second smallest mismatch among the tokens tried at each open row (current included).
  const near = new Map<number, [number, number]>(open.map((b) => [b, [now.get(b)!, Infinity]]));
  const chosenDist = (b: number) => best.get(b)?.dist ?? now.get(b)!;
  const standsOut = (b: number) => {
    if (!o.standOut) return false;
    const [d1, d2] = near.get(b)!;
    return chosenDist(b) === d1 && d1 <= o.standOut * d2;
  };
  // Scores one round's candidates (tokensOf(b): the row's, skipping those already tried) and keeps the best.
  const tryRound = (i: number, rows: readonly number[], tokensOf: (b: number) => Iterable<number>) => {
    const scored = scoreCandidates(enc, rows, tokensOf, (b, tok) => {
      const seen = tried.get(b)!;
      if (seen.has(tok)) return false;
      seen.add(tok);
      return fits(b, tok);
    }, o.stats, ROUNDS[i]!);
    if (!scored) return;
    const { owner, tokens, d } = scored;
    for (let j = 0; j < tokens.length; j++) {
      const b = owner[j]!;
      const s = score(b, tokens[j]!, d[j]!);
      const nb = near.get(b)!;
      if (d[j]! < nb[0]) near.set(b, [d[j]!, nb[0]]);
      else if (d[j]! < nb[1]) nb[1] = d[j]!;
      if (s < (best.get(b)?.score ?? (broken.has(b) ? Infinity : score(b, cur[b]![t]!, now.get(b)!)))) best.set(b, { tok: tokens[j]!, dist: d[j]!, score: s, round: i });
    }
  };
  const extra = o.trySeparators ? o.separators ?? [] : [];
  const ranks = (at: (b: number, r: number) => number[], from: number, to: number) => function* (b: number) {
    for (let r = from; r < to; r++) yield* at(b, r);
    if (from === 0) yield* extra;
  };
  // Round 1: each source's top-K; round 2 (rows still unmatched): ranks K..escalateK; round 3 (rows
  // nothing explains): the combined log-probability's ranks up to wideK. Rows the stand-out stop
  // ends: their chosen token's embedding neighbours.
  const R = ranked.R;
  const top = open.length ? ranked.at(t, open) : null;
  const rounds: [number, number, () => ((b: number, r: number) => number[]) | null][] = [[0, Math.min(o.topK, R), () => top], [Math.min(o.topK, R), R, () => top]];
  if (wide) rounds.push([0, wide.R, () => wide.at(t, open)]);
  const stopped: number[] = [];
  for (const [i, [from, to, rankedAt]] of rounds.entries()) {
    if (i === 2) open = open.filter((b) => unresolved(b) || chosenDist(b) > (o.wideAbove ?? 4) * scale.accept);
    if (open.length === 0 || from >= to) continue;
    tryRound(i, open, ranks(rankedAt()!, from, to));
    open = open.filter((b) => {
      if (unresolved(b)) return true;
      if (chosenDist(b) <= scale.accept) return false;
      if (standsOut(b)) return stopped.push(b), false;
      return true;
    });
  }
  if (neighbours && stopped.length) tryRound(3, stopped, (b) => neighbours(best.get(b)?.tok ?? cur[b]![t]!));
  if (twins) {
    const prior = (b: number, tok: number) => (logProb ? logProb[(b * T + t) * V + tok]! : 0);
    const chosen = (b: number) => best.get(b) ?? { tok: cur[b]![t]!, dist: now.get(b)! };
    chooseAmongTwins(enc, t, active.filter((b) => !unresolved(b)), twins, fits, prior, score, chosen, best, o);
  }
  for (const [b, { tok, round }] of best) {
    cur[b]![t] = tok;
    if (o.stats) o.stats.rounds[ROUNDS[round]!].won++;
  }
  return best.size;
}

/**
 * Each score tensor's ([B, T, V]) top-R tokens at one position, ranked for the rows asked only: one
 * top-k per source over those rows. at(t, rows)(b, r) yields every source's rank-r token for row b
 * (b among `rows`). The caller keeps the score tensors alive while it ranks.
 */
export class PositionRanks {
  readonly R: number;

  constructor(private readonly scores: readonly Tensor[], R: number) {
    this.R = Math.min(R, scores[0]!.size(-1));
  }

  at(t: number, rows: readonly number[]): (b: number, r: number) => number[] {
    const R = this.R;
    const slot = new Map(rows.map((b, i) => [b, i]));
    const ranks = noGrad(() => tidy(() => {
      const idx = tensor(rows as number[], [rows.length], { dtype: 'int64' });
      return this.scores.map((s) => s.select(1, t).indexSelect(0, idx).topk(R, -1)[1].to('int32').data<'int32'>());
    }));
    return (b, r) => {
      const i = slot.get(b)!;
      return ranks.map((x) => x[i * R + r]!);
    };
  }
}

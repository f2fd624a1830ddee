// How much of the scored text the model cannot tell apart at its input: the share of the windows'
// tokens whose input embedding has a near-copy (another token the tokenizer can emit, within
// NEAR_COPY_COS). A model leaves the tokens it never saw in training near one point (stories260K: `=`,
// `_`, `<`, `>`, `[`, `]`, `#`, `@` and the unused bytes), so text spelled with them (code,
// arithmetic) caps exact recovery once the device drifts (src/attacks/README.md, "Not done"). The
// separators (BOS, EOS, padding) are not counted: the attacks decide them on their own evidence
// (framing.ts, the repair's tie-break). The evaluator reports it beside every scenario's scores;
// attacks never call it.
import { keep, noGrad, tensor, tidy } from '../torch/index.js';
import type { DevicePart, TextTokenizer } from '../models/types.js';
import { NEAR_COPY_COS } from '../attacks/index.js';

/** Distinct tokens compared against the whole vocabulary at once ([rows, vocab] cosines). */
const ROWS = 256;

export interface NearCopyOptions {
  minCos?: number;
  /** Tokens never counted (the separators). */
  skip?: ReadonlySet<number>;
  /** Tokens that are nobody's near-copy: the tokenizer never emits them, so no search picks them. */
  unreachable?: ReadonlySet<number>;
}

/** The separators skipped and the ids the tokenizer never emits. */
export function nearCopyOptions(tokenizer: TextTokenizer): NearCopyOptions {
  const ids = [tokenizer.bosTokenId, tokenizer.eosTokenId, tokenizer.padTokenId].filter((x): x is number => x !== null);
  return { skip: new Set(ids), unreachable: tokenizer.unreachableTokens?.() ?? new Set() };
}

/** Share of the windows' tokens (0 for none) that are not skipped and have a near-copy. */
export function nearCopyShare(device: DevicePart, windows: readonly (readonly number[])[], o: NearCopyOptions = {}): number {
  return nearCopyCensus(device, windows, o).share;
}

/** The windows' tokens: each distinct one's count, those that have a near-copy, and the share of all tokens they make. */
export function nearCopyCensus(device: DevicePart, windows: readonly (readonly number[])[], o: NearCopyOptions = {}): { counts: Map<number, number>; near: Set<number>; share: number } {
  const { counts, total } = tokenCounts(windows);
  const near = nearCopyTokens(device, [...counts.keys()], o);
  return { counts, near, share: shareOf(counts, total, (t) => near.has(t)) };
}

function tokenCounts(windows: readonly (readonly number[])[]): { counts: Map<number, number>; total: number } {
  const counts = new Map<number, number>();
  let total = 0;
  for (const w of windows) for (const t of w) { counts.set(t, (counts.get(t) ?? 0) + 1); total++; }
  return { counts, total };
}

/** Share of all `total` tokens made by the distinct ones `isNear` accepts (0 for none). */
function shareOf(counts: ReadonlyMap<number, number>, total: number, isNear: (t: number) => boolean): number {
  let n = 0;
  for (const [t, c] of counts) if (isNear(t)) n += c;
  return total ? n / total : 0;
}

/**
 * nearCopyShare that keeps each token's verdict: the scenarios and splits of one experiment share
 * the model's input embeddings, so a token is compared against the vocabulary once, not once per
 * (scenario, split) — milliseconds at stories260K's 512 tokens, a [256, V] product per 256 distinct
 * tokens on a 128K vocabulary.
 */
export class NearCopyMemo {
  readonly #near = new Map<number, boolean>();
  constructor(private readonly device: Pick<DevicePart, 'embeddingMatrix'>, private readonly o: NearCopyOptions = {}) {}

  share(windows: readonly (readonly number[])[]): number {
    const { counts, total } = tokenCounts(windows);
    const fresh = [...counts.keys()].filter((t) => !this.#near.has(t));
    if (fresh.length) {
      const near = nearCopyTokens(this.device, fresh, this.o);
      for (const t of fresh) this.#near.set(t, near.has(t));
    }
    return shareOf(counts, total, (t) => this.#near.get(t)!);
  }
}

/** Those of `tokens`, not skipped, whose input embedding has cosine ≥ minCos with another emittable token's. */
export function nearCopyTokens(device: Pick<DevicePart, 'embeddingMatrix'>, tokens: readonly number[], o: NearCopyOptions = {}): Set<number> {
  const minCos = o.minCos ?? NEAR_COPY_COS;
  const asked = tokens.filter((t) => !o.skip?.has(t));
  const near = new Set<number>();
  if (!asked.length) return near;
  // Norms once, cosines a block of rows at a time: no normalised copy of a large embedding matrix.
  // float32 once (the same tensor when it already is), not once per block of rows.
  const [E, norms, emittable] = noGrad(() => tidy(() => {
    const E = device.embeddingMatrix.float();
    const allowed = new Float32Array(E.size(0)).fill(1);
    for (const t of o.unreachable ?? []) allowed[t] = 0;
    return [keep(E), keep(E.norm(2, -1).clamp(1e-8)), keep(tensor(allowed))];
  }));
  try {
    for (let i = 0; i < asked.length; i += ROWS) {
      const rows = asked.slice(i, i + ROWS);
      const close = noGrad(() => tidy(() => {
        const index = tensor(rows, [rows.length], { dtype: 'int64' });
        const cos = E.indexSelect(0, index).matmul(E.T).div(norms.indexSelect(0, index).unsqueeze(1).mul(norms.unsqueeze(0)));
        return cos.ge(minCos).float().mul(emittable).sum(-1).data<'float32'>();
      }));
      // The token itself is among them (cosine 1) unless the tokenizer never emits it.
      rows.forEach((t, j) => { if (close[j]! > (o.unreachable?.has(t) ? 0 : 1)) near.add(t); });
    }
  } finally {
    E.dispose();
    norms.dispose();
    emittable.dispose();
  }
  return near;
}

/** The clause printed after a sample's description ('' when no scored token has a near-copy, or the result predates the measure). */
export function nearCopyNote(share: number | undefined): string {
  if (!share) return '';
  return `; ${(100 * share).toFixed(1)} % of its tokens have a near-copy in the model (input-embedding cosine ≥ ${NEAR_COPY_COS}), which caps exact recovery under drift`;
}

// Auxiliary training data for learned attacks: token windows cut from public text, padded
// batches, and the device part's activations H_k on them (the server can compute these itself
// because it holds the device part's pretrained weights).
import { Tensor, noGrad, tidy, keep, cat, tensor } from '../torch/index.js';
import type { DevicePart, TextTokenizer } from '../models/types.js';
import { mulberry32, seededShuffle } from '../util/prng.js';
import { padBatch, sampleWindows, streamWindows, textWindows } from '../data/windows.js';
import { InputError } from '../data/errors.js';

export interface WindowOptions {
  /** Tokens per window, BOS included. */
  maxTokens: number;
  /** Windows shorter than this (BOS included) are dropped. */
  minTokens?: number;
  addBos: boolean;
  /** Keep at most this many windows (a seeded random subset). */
  limit?: number;
  seed?: number;
  /**
   * Share of the windows cut from one token stream of all texts (BOS where a text starts when
   * addBos, EOS where it ends) at a seeded offset, as the split runtime cuts training data: most
   * such windows start mid-text. The rest start where a text starts. Default 0.
   */
  streamShare?: number;
}

/**
 * Tokenises each text and cuts it into consecutive windows of maxTokens (BOS prepended to each
 * window when the protocol adds one): what the device would send for a text of that length.
 */
export function tokenWindows(texts: readonly string[], tok: TextTokenizer, o: WindowOptions): number[][] {
  if (o.addBos && tok.bosTokenId === null) throw new Error('addBos is set but the tokenizer has no BOS token');
  const seed = o.seed ?? 0;
  const aligned = textWindows(texts, tok, { size: o.maxTokens, prefix: o.addBos ? tok.bosTokenId : null, minLength: o.minTokens ?? Math.min(8, o.maxTokens) });
  const share = o.streamShare ?? 0;
  if (share <= 0) return sampleWindows(aligned, o.limit, seed);
  const total = Math.min(o.limit ?? aligned.length, aligned.length);
  const nStream = Math.round(total * share);
  const cut = streamWindows(texts, tok, o.maxTokens).windows;
  return seededShuffle([...sampleWindows(aligned, total - nStream, seed), ...sampleWindows(cut, nStream, seed + 1)], seed + 2);
}

/** Real lengths from a [B, T] attention mask. */
export function lengthsOf(mask: Tensor): number[] {
  return noGrad(() => tidy(() => mask.sum(1).toNumbers()));
}

/** Device part's H_k for a batch of ids (no gradient). */
export function deviceHidden(device: DevicePart, ids: Tensor, mask: Tensor): Tensor {
  return noGrad(() => device.forward(ids, { attentionMask: mask }).hidden);
}

/** Token windows with their activations, sampled in seeded random minibatches. */
export class AuxCorpus {
  /** [N, T] padded ids, [N, T] mask, and (when cached) [N, T, D] activations. */
  private ids: Tensor;
  private mask: Tensor;
  private hidden: Tensor | null = null;
  private readonly rand: () => number;
  readonly width: number;

  constructor(readonly device: DevicePart, readonly seqs: number[][], o: { seed?: number; padId?: number; cacheBytes?: number } = {}) {
    if (seqs.length === 0) throw new InputError('the auxiliary text makes no training window (too little text, or only texts of a few tokens)', 'give the attacker more auxiliary text with --aux');
    this.width = Math.max(...seqs.map((s) => s.length));
    const b = padBatch(seqs, o.padId ?? 0, this.width);
    this.ids = keep(b.ids);
    this.mask = keep(b.mask);
    this.rand = mulberry32((o.seed ?? 0) ^ 0x5eed);
    const bytes = seqs.length * this.width * device.config.dModel * 4;
    if (bytes <= (o.cacheBytes ?? 512 * 1024 * 1024)) {
      const parts: Tensor[] = [];
      for (let i = 0; i < seqs.length; i += 64) {
        const n = Math.min(64, seqs.length - i);
        parts.push(tidy(() => deviceHidden(device, this.ids.narrow(0, i, n), this.mask.narrow(0, i, n))));
      }
      this.hidden = keep(tidy(() => cat(parts, 0)));
      for (const p of parts) p.dispose();
    }
  }

  get size(): number {
    return this.seqs.length;
  }

  /** Row indices of a random minibatch. */
  sample(batchSize: number): number[] {
    const n = this.seqs.length;
    return Array.from({ length: Math.min(batchSize, n) }, () => Math.floor(this.rand() * n));
  }

  /** ids [B, T], mask [B, T], hidden [B, T, D] for the given rows, trimmed to their longest row. */
  batch(rows: number[]): { ids: Tensor; mask: Tensor; hidden: Tensor } {
    return tidy(() => {
      const index = tensor(rows, [rows.length], { dtype: 'int64' });
      const T = Math.max(...rows.map((r) => this.seqs[r]!.length));
      const ids = this.ids.indexSelect(0, index).narrow(1, 0, T).contiguous();
      const mask = this.mask.indexSelect(0, index).narrow(1, 0, T).contiguous();
      const hidden = this.hidden
        ? this.hidden.indexSelect(0, index).narrow(1, 0, T).contiguous()
        : deviceHidden(this.device, ids, mask);
      return { ids, mask, hidden };
    });
  }

  dispose(): void {
    this.ids.dispose();
    this.mask.dispose();
    this.hidden?.dispose();
  }
}

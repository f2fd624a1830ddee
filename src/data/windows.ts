// Token windows and padded batches: how text becomes what a device sends. One module for every
// caller — attack training data, split fine-tuning, the device runtime, utility and calibration.
import { ids as idsTensor, type Tensor } from '../torch/index.js';
import type { TextTokenizer } from '../models/types.js';
import { SeededRandom, seededShuffle } from '../util/prng.js';

export interface TextWindowOptions {
  /** Tokens per window, prefix included. */
  size: number;
  /** Token prepended to every window (BOS where the protocol adds it), or null. */
  prefix?: number | null;
  /** Windows shorter than this (prefix included) are dropped. Default 1. */
  minLength?: number;
  /** Encode each text as the tokenizer does by default (BOS on the first window only). Default false. */
  tokenizerDefaults?: boolean;
}

/** Consecutive windows of at most `size` tokens of one id sequence. */
export function windowsOf(ids: readonly number[], size: number): number[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`window size must be a positive integer, got ${size}`);
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

/** Each text tokenised on its own and cut into consecutive windows (each with the prefix token). */
export function textWindows(texts: readonly string[], tok: TextTokenizer, o: TextWindowOptions): number[][] {
  const prefix = o.prefix ?? null;
  const body = o.size - (prefix !== null ? 1 : 0);
  if (body < 1) throw new RangeError(`windows of ${o.size} tokens leave no room for text`);
  const minLength = o.minLength ?? 1;
  const out: number[][] = [];
  for (const text of texts) {
    const t = text.trim();
    if (!t) continue;
    const ids = o.tokenizerDefaults ? tok.encode(t) : tok.encode(t, { addBos: false, addEos: false });
    for (const w of windowsOf(ids, body)) {
      const seq = prefix !== null ? [prefix, ...w] : w;
      if (seq.length >= minLength) out.push(seq);
    }
  }
  return out;
}

/**
 * The texts as one token stream (each followed by EOS when the tokenizer has one) cut into windows of
 * exactly `size` tokens: the split runtime's training windows, which start mid-text.
 */
export function streamWindows(texts: readonly string[], tok: TextTokenizer, size: number): { windows: number[][]; stream: number[] } {
  const stream: number[] = [];
  for (const t of texts) stream.push(...tok.encode(t, { addEos: true }));
  const n = Math.floor(stream.length / size);
  return { windows: Array.from({ length: n }, (_, i) => stream.slice(i * size, (i + 1) * size)), stream };
}

/** At most `limit` of the windows: a seeded random subset (all of them, in order, when fewer). */
export function sampleWindows<T>(windows: T[], limit: number | undefined, seed: number): T[] {
  if (limit === undefined || windows.length <= limit) return windows;
  return seededShuffle(windows, seed).slice(0, limit);
}

/** Right-padded ids [B, T] (int64) and attention mask [B, T] (int64). */
export function padBatch(seqs: readonly (readonly number[])[], padId = 0, width?: number): { ids: Tensor; mask: Tensor } {
  const T = width ?? Math.max(...seqs.map((s) => s.length));
  const rows = seqs.map((s) => [...s, ...new Array<number>(T - s.length).fill(padId)]);
  const mask = seqs.map((s) => [...new Array<number>(s.length).fill(1), ...new Array<number>(T - s.length).fill(0)]);
  return { ids: idsTensor(rows), mask: idsTensor(mask) };
}

/** Endless minibatches of row indices 0..n-1: a seeded order, reshuffled every epoch. */
export function* epochBatches(n: number, batchSize: number, seed: number): Generator<number[]> {
  if (n < 1) throw new RangeError('no rows to batch');
  const rand = new SeededRandom(seed);
  let order: number[] = [];
  for (;;) {
    const rows: number[] = [];
    while (rows.length < batchSize) {
      if (!order.length) order = rand.shuffleInPlace(Array.from({ length: n }, (_, i) => i));
      rows.push(order.pop()!);
    }
    yield rows;
  }
}

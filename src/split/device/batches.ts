// Training batches for split fine-tuning: the texts tokenised into one stream (each text ends with
// EOS when the tokenizer has one), cut into windows of `seq` tokens, visited in a seeded order.
// Batch i (0-based) is a pure function of (texts, seq, batch, seed, i), so a device that resumes
// from step s continues with exactly the batches an uninterrupted run would have used.
import { RevertlmError } from '../../util/errors.js';
import { createHash } from 'node:crypto';
import { seededShuffle } from '../../util/prng.js';
import { streamWindows } from '../../data/windows.js';
import type { TextTokenizer } from '../../models/index.js';
import { ids as idsTensor, type Tensor } from '../../torch/index.js';

export class DataError extends RevertlmError {}

export class TokenWindows {
  readonly #windows: number[][];
  readonly #order: number[];
  /** Identifies the token stream, the window length and the order (checked when resuming). */
  readonly digest: string;

  constructor(tokenizer: TextTokenizer, texts: readonly string[], readonly seq: number, readonly seed = 0) {
    if (!Number.isInteger(seq) || seq < 2) throw new DataError(`--seq must be an integer >= 2, got ${seq}`);
    const { windows, stream } = streamWindows(texts, tokenizer, seq);
    const n = windows.length;
    if (n === 0) throw new DataError(`the data holds ${stream.length} tokens, fewer than one sequence of --seq ${seq}`, 'use more text or a smaller --seq');
    this.#windows = windows;
    this.#order = seededShuffle(Array.from({ length: n }, (_, i) => i), seed);
    const h = createHash('sha256');
    h.update(`${seq} ${seed} `);
    h.update(Buffer.from(Int32Array.from(stream).buffer));
    this.digest = h.digest('hex').slice(0, 24);
  }

  get count(): number {
    return this.#windows.length;
  }

  /** Rows of batch i (0-based): windows i·B, …, i·B + B - 1 of the order, wrapping around. */
  rows(i: number, batch: number): number[][] {
    return Array.from({ length: batch }, (_, j) => this.#windows[this.#order[(i * batch + j) % this.#windows.length]!]!);
  }

  /** The first n windows of the order, each once (evaluation visits them in batches of consecutive ones). */
  ordered(n = this.count): number[][] {
    if (!Number.isInteger(n) || n < 1) throw new DataError(`the number of windows must be a positive integer, got ${n}`);
    return this.#order.slice(0, Math.min(n, this.count)).map((i) => this.#windows[i]!);
  }

  /** Batch i as token ids [batch, seq] (int64). */
  batch(i: number, batch: number): Tensor {
    return idsTensor(this.rows(i, batch));
  }
}

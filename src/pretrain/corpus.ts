// The training token stream: every document's ids followed by the end-of-sequence token, in one
// flat array (as GPT-2 / nanoGPT pretraining data), plus summaries of it.
import { createHash } from 'node:crypto';

/** Concatenates encode(text) + [eos] for every text. */
export function tokenizeCorpus(texts: Iterable<string>, encode: (text: string) => number[], eosId: number | null): Int32Array {
  const chunks: number[][] = [];
  let n = 0;
  for (const t of texts) {
    const ids = encode(t);
    if (eosId !== null) ids.push(eosId);
    chunks.push(ids);
    n += ids.length;
  }
  const out = new Int32Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** SHA-256 of the token stream: a resumed run checks it trains on the same tokens. */
export function tokensDigest(tokens: Int32Array): string {
  return createHash('sha256').update(new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength)).digest('hex');
}

/**
 * Entropy (nats) of the corpus's unigram token distribution: the loss of the best model that
 * ignores context, so a language model trained on the corpus should go well below it.
 */
export function unigramEntropy(tokens: Int32Array): number {
  const counts = new Map<number, number>();
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / tokens.length;
    h -= p * Math.log(p);
  }
  return h;
}

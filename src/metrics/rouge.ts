// ROUGE-N and ROUGE-L (sentence-level LCS, not Lsum), as Google's rouge-score computes them
// with its defaults (no stemmer). Strings are tokenised by rougeTokenize (see tokenize.ts).
import { Vocab, ngramCounts, sumCounts } from './ngram.js';
import { fmeasure, type PRF } from './prf.js';
import { rougeTokenize, toTokens, type TextOrTokens, type Token } from './tokenize.js';

export interface RougeScores {
  rouge1: number;
  rouge2: number;
  rougeL: number;
}

export function rougeN(reference: TextOrTokens, hypothesis: TextOrTokens, n: number): PRF {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`rougeN: n must be a positive integer, got ${n}`);
  const vocab = new Vocab();
  const ref = ngramCounts(vocab.encode(toTokens(reference, rougeTokenize)), n);
  const hyp = ngramCounts(vocab.encode(toTokens(hypothesis, rougeTokenize)), n);
  let overlap = 0;
  for (const [gram, c] of ref) overlap += Math.min(c, hyp.get(gram) ?? 0);
  // max(·, 1) as in rouge-score: an empty side yields 0 rather than NaN.
  const precision = overlap / Math.max(sumCounts(hyp), 1);
  const recall = overlap / Math.max(sumCounts(ref), 1);
  return { precision, recall, f1: fmeasure(precision, recall) };
}

export function lcsLength(a: readonly Token[], b: readonly Token[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

export function rougeL(reference: TextOrTokens, hypothesis: TextOrTokens): PRF {
  const ref = toTokens(reference, rougeTokenize);
  const hyp = toTokens(hypothesis, rougeTokenize);
  if (ref.length === 0 || hyp.length === 0) return { precision: 0, recall: 0, f1: 0 };
  const lcs = lcsLength(ref, hyp);
  const precision = lcs / hyp.length;
  const recall = lcs / ref.length;
  return { precision, recall, f1: fmeasure(precision, recall) };
}

/** ROUGE-1/2/L F1 of one pair. */
export function rougeScores(reference: TextOrTokens, hypothesis: TextOrTokens): RougeScores {
  const ref = toTokens(reference, rougeTokenize);
  const hyp = toTokens(hypothesis, rougeTokenize);
  return {
    rouge1: rougeN(ref, hyp, 1).f1,
    rouge2: rougeN(ref, hyp, 2).f1,
    rougeL: rougeL(ref, hyp).f1,
  };
}

/**
 * ROUGE-1/2/L F1 of one scored window. As rougeScores, except that a pair in which neither side has
 * a ROUGE token (only symbols, e.g. an e-mail's `______` rule) scores 1: rouge-score gives 0 to an
 * empty side, which would score an exact reconstruction of such a window 0. The same convention as
 * the token metrics (an empty reference scores 1 only against an empty hypothesis) and SQuAD's F1.
 */
export function windowRougeScores(reference: TextOrTokens, hypothesis: TextOrTokens): RougeScores {
  const ref = toTokens(reference, rougeTokenize);
  const hyp = toTokens(hypothesis, rougeTokenize);
  if (ref.length === 0 && hyp.length === 0) return { rouge1: 1, rouge2: 1, rougeL: 1 };
  return rougeScores(ref, hyp);
}

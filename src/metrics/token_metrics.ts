// Token-level reconstruction metrics. Strings are whitespace-tokenised, case kept (see
// tokenize.ts); pass model token ids instead to score at the tokenizer's granularity.
//
// Convention for an empty reference: reconstructing nothing as nothing is perfect (1), anything
// else scores 0. (ROUGE and BLEU keep their reference packages' behaviour and give 0 there.)
import { fmeasure, type PRF } from './prf.js';
import { toTokens, whitespaceTokenize, type TextOrTokens } from './tokenize.js';

/**
 * Share of reference positions i with hyp[i] === ref[i]. The denominator is the reference
 * length, so missing tokens count as errors while extra trailing hypothesis tokens are ignored.
 */
export function tokenAccuracy(reference: TextOrTokens, hypothesis: TextOrTokens): number {
  const ref = toTokens(reference, whitespaceTokenize);
  const hyp = toTokens(hypothesis, whitespaceTokenize);
  if (ref.length === 0) return hyp.length === 0 ? 1 : 0;
  let hits = 0;
  const m = Math.min(ref.length, hyp.length);
  for (let i = 0; i < m; i++) if (ref[i] === hyp[i]) hits++;
  return hits / ref.length;
}

/**
 * Token-set precision/recall/F1 as BiSR reports it: order and multiplicity ignored,
 * precision = |H ∩ R| / |H|, recall = |H ∩ R| / |R| over the sets of distinct tokens.
 */
export function tokenSetPRF(reference: TextOrTokens, hypothesis: TextOrTokens): PRF {
  const ref = new Set(toTokens(reference, whitespaceTokenize));
  const hyp = new Set(toTokens(hypothesis, whitespaceTokenize));
  if (ref.size === 0 || hyp.size === 0) {
    const v = ref.size === hyp.size ? 1 : 0;
    return { precision: v, recall: v, f1: v };
  }
  let common = 0;
  for (const t of hyp) if (ref.has(t)) common++;
  const precision = common / hyp.size;
  const recall = common / ref.size;
  return { precision, recall, f1: fmeasure(precision, recall) };
}

export function tokenSetF1(reference: TextOrTokens, hypothesis: TextOrTokens): number {
  return tokenSetPRF(reference, hypothesis).f1;
}

/** 1 when the token sequences are identical (so whitespace differences between strings do not count), else 0. */
export function exactMatch(reference: TextOrTokens, hypothesis: TextOrTokens): 0 | 1 {
  const ref = toTokens(reference, whitespaceTokenize);
  const hyp = toTokens(hypothesis, whitespaceTokenize);
  if (ref.length !== hyp.length) return 0;
  for (let i = 0; i < ref.length; i++) if (ref[i] !== hyp[i]) return 0;
  return 1;
}

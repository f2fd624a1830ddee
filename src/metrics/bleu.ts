// BLEU as NLTK 3.8 computes it (nltk.translate.bleu_score): modified n-gram precision, brevity
// penalty against the closest reference length, geometric mean with uniform weights.
// Strings are tokenised by whitespaceTokenize (see tokenize.ts).
//
// NLTK details reproduced on purpose:
// - If no hypothesis unigram matches (corpus-wide numerator of p1 is 0), the score is 0,
//   checked before any smoothing, so smoothing method1 also returns 0 then.
// - Without smoothing (method0), a zero precision for a higher order is replaced by
//   sys.float_info.min (2.2250738585072014e-308) after NLTK's warning, so the score is tiny but
//   not exactly 0 (e.g. 1.8e-231 for BLEU-4 with only unigram matches and no brevity penalty).
// - method1 adds epsilon (0.1) to zero numerators only: (0 + 0.1) / denominator.
// - Denominators are max(1, number of hypothesis n-grams), so short hypotheses do not divide by 0.
// - corpus BLEU sums numerators and denominators over all pairs before dividing; sentence BLEU
//   is corpus BLEU of a single pair.
import { Vocab, ngramCounts, sumCounts } from './ngram.js';
import { toTokens, whitespaceTokenize, type TextOrTokens, type Token } from './tokenize.js';

export type BleuSmoothing = 'none' | 'method1';

export interface BleuOptions {
  /** n-gram weights; default [0.25, 0.25, 0.25, 0.25] (BLEU-4). */
  weights?: readonly number[];
  /** 'none' = NLTK's method0 (default), 'method1' = SmoothingFunction().method1. */
  smoothing?: BleuSmoothing;
  /** epsilon of method1; default 0.1 as in NLTK. */
  epsilon?: number;
}

export interface Precision {
  numerator: number;
  denominator: number;
}

/** Python's sys.float_info.min, the smallest normal double. */
export const FLOAT_MIN = 2.2250738585072014e-308;

const DEFAULT_WEIGHTS: readonly number[] = [0.25, 0.25, 0.25, 0.25];

export function modifiedPrecision(
  references: readonly (readonly Token[])[],
  hypothesis: readonly Token[],
  n: number,
): Precision {
  const vocab = new Vocab();
  const counts = ngramCounts(vocab.encode(hypothesis), n);
  const maxRefCounts = new Map<string, number>();
  for (const reference of references) {
    const refCounts = ngramCounts(vocab.encode(reference), n);
    for (const gram of counts.keys()) {
      maxRefCounts.set(gram, Math.max(maxRefCounts.get(gram) ?? 0, refCounts.get(gram) ?? 0));
    }
  }
  let numerator = 0;
  for (const [gram, c] of counts) numerator += Math.min(c, maxRefCounts.get(gram) ?? 0);
  return { numerator, denominator: Math.max(1, sumCounts(counts)) };
}

/** Reference length closest to hypLen; ties go to the shorter reference. */
export function closestRefLength(references: readonly (readonly Token[])[], hypLen: number): number {
  if (references.length === 0) throw new RangeError('BLEU needs at least one reference per hypothesis');
  let best = references[0]!.length;
  for (const ref of references) {
    const d = Math.abs(ref.length - hypLen);
    const bestD = Math.abs(best - hypLen);
    if (d < bestD || (d === bestD && ref.length < best)) best = ref.length;
  }
  return best;
}

export function brevityPenalty(closestRefLen: number, hypLen: number): number {
  if (hypLen > closestRefLen) return 1;
  if (hypLen === 0) return 0;
  return Math.exp(1 - closestRefLen / hypLen);
}

/** NLTK corpus_bleu on tokens: `listOfReferences[i]` holds the references of `hypotheses[i]`. */
export function corpusBleu(
  listOfReferences: readonly (readonly (readonly Token[])[])[],
  hypotheses: readonly (readonly Token[])[],
  options: BleuOptions = {},
): number {
  if (listOfReferences.length !== hypotheses.length) {
    throw new RangeError(
      `corpusBleu: ${listOfReferences.length} reference lists for ${hypotheses.length} hypotheses`,
    );
  }
  const weights = options.weights ?? DEFAULT_WEIGHTS;
  const maxN = weights.length;
  const numerators = new Array<number>(maxN).fill(0);
  const denominators = new Array<number>(maxN).fill(0);
  let hypLengths = 0;
  let refLengths = 0;

  hypotheses.forEach((hyp, i) => {
    const refs = listOfReferences[i]!;
    for (let n = 1; n <= maxN; n++) {
      const p = modifiedPrecision(refs, hyp, n);
      numerators[n - 1]! += p.numerator;
      denominators[n - 1]! += p.denominator;
    }
    hypLengths += hyp.length;
    refLengths += closestRefLength(refs, hyp.length);
  });

  const bp = brevityPenalty(refLengths, hypLengths);
  if (numerators[0] === 0) return 0;

  const epsilon = options.epsilon ?? 0.1;
  const smoothing = options.smoothing ?? 'none';
  const precisions = numerators.map((num, k) => {
    const den = denominators[k]!;
    if (num !== 0) return num / den;
    return smoothing === 'method1' ? (num + epsilon) / den : FLOAT_MIN;
  });

  let logSum = 0;
  for (let k = 0; k < maxN; k++) logSum += weights[k]! * Math.log(precisions[k]!);
  return bp * Math.exp(logSum);
}

/** NLTK sentence_bleu on tokens: one hypothesis against one or more references. */
export function sentenceBleu(
  references: readonly (readonly Token[])[],
  hypothesis: readonly Token[],
  options: BleuOptions = {},
): number {
  return corpusBleu([references], [hypothesis], options);
}

/** Sentence BLEU of one reference and one hypothesis; strings are whitespace-tokenised. */
export function sentenceBleuText(
  reference: TextOrTokens,
  hypothesis: TextOrTokens,
  options: BleuOptions = {},
): number {
  return sentenceBleu(
    [toTokens(reference, whitespaceTokenize)],
    toTokens(hypothesis, whitespaceTokenize),
    options,
  );
}

/** Corpus BLEU with one reference per hypothesis; strings are whitespace-tokenised. */
export function corpusBleuText(
  references: readonly TextOrTokens[],
  hypotheses: readonly TextOrTokens[],
  options: BleuOptions = {},
): number {
  if (references.length !== hypotheses.length) {
    throw new RangeError(`corpusBleuText: ${references.length} references for ${hypotheses.length} hypotheses`);
  }
  return corpusBleu(
    references.map((r) => [toTokens(r, whitespaceTokenize)]),
    hypotheses.map((h) => toTokens(h, whitespaceTokenize)),
    options,
  );
}

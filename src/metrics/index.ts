import { RevertlmError } from '../util/errors.js';
export * from './tokenize.js';
export * from './prf.js';
export * from './rouge.js';
export * from './bleu.js';
export * from './token_metrics.js';
export * from './pii.js';
export { chanceRougeL } from './chance.js';
export { FIRST_NAMES, SURNAMES } from './names.js';

import { corpusBleuText } from './bleu.js';
import { piiRecoveryCorpus } from './pii.js';
import { windowRougeScores } from './rouge.js';
import { exactMatch, tokenAccuracy, tokenSetF1 } from './token_metrics.js';

export interface ScoreSummary {
  /** Number of (reference, hypothesis) pairs. */
  n: number;
  rouge1: number;
  rouge2: number;
  rougeL: number;
  /** Corpus BLEU-4 (NLTK corpus_bleu, no smoothing) over all pairs, empty hypotheses included. */
  bleu: number;
  token_acc: number;
  token_f1: number;
  exact_match: number;
  /** Pooled PII recovery rate (recovered spans / total spans); null when the references hold no PII. */
  pii: number | null;
}

/**
 * Scores reconstructions `hyps[i]` of victim texts `refs[i]`. Per-pair metrics are averaged
 * with equal weight per pair (ROUGE per windowRougeScores: two sides without words agree); BLEU and
 * PII are pooled over the corpus.
 */
export function scoreAll(refs: readonly string[], hyps: readonly string[]): ScoreSummary {
  if (refs.length !== hyps.length) {
    throw new RangeError(`scoreAll: ${refs.length} references for ${hyps.length} hypotheses`);
  }
  const n = refs.length;
  if (n === 0) throw new RevertlmError('nothing to score: there are no reconstructions', 'the traffic or the references selected hold no sequence: check --victim, --references and the capture selection');
  let rouge1 = 0;
  let rouge2 = 0;
  let rougeL = 0;
  let tokenAcc = 0;
  let tokenF1 = 0;
  let exact = 0;
  for (let i = 0; i < n; i++) {
    const ref = refs[i]!;
    const hyp = hyps[i]!;
    const r = windowRougeScores(ref, hyp);
    rouge1 += r.rouge1;
    rouge2 += r.rouge2;
    rougeL += r.rougeL;
    tokenAcc += tokenAccuracy(ref, hyp);
    tokenF1 += tokenSetF1(ref, hyp);
    exact += exactMatch(ref, hyp);
  }
  return {
    n,
    rouge1: rouge1 / n,
    rouge2: rouge2 / n,
    rougeL: rougeL / n,
    bleu: corpusBleuText(refs, hyps),
    token_acc: tokenAcc / n,
    token_f1: tokenF1 / n,
    exact_match: exact / n,
    pii: piiRecoveryCorpus(refs, hyps).rate,
  };
}

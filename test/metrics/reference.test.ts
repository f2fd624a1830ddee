// Reproduces every value of ../shared/data/metrics_reference.json (NLTK 3.8 BLEU, rouge-score ROUGE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  corpusBleu,
  corpusBleuText,
  rougeScores,
  scoreAll,
  sentenceBleu,
  sentenceBleuText,
  whitespaceTokenize,
} from '../../src/metrics/index.js';
import { assertClose } from './helpers.js';
import { sharedPath, SHARED_MISSING } from '../helpers/shared.js';

interface RefCase {
  reference: string;
  hypothesis: string;
  rouge1_f: number;
  rouge2_f: number;
  rougeL_f: number;
  bleu_tokens: { reference: string[]; hypothesis: string[] };
  sentence_bleu4: number;
  sentence_bleu4_smooth1: number;
}

interface RefFile {
  cases: RefCase[];
  corpus_bleu4: number;
}

function load(): RefFile | string {
  const file = sharedPath('data/metrics_reference.json');
  if (!file) return SHARED_MISSING('data/metrics_reference.json');
  return JSON.parse(readFileSync(file, 'utf8')) as RefFile;
}

test('metrics_reference.json: per-case ROUGE and sentence BLEU', async (t) => {
  const ref = load();
  if (typeof ref === 'string') {
    t.skip(ref);
    return;
  }
  assert.ok(ref.cases.length >= 20, 'reference file should hold its 23 cases');
  for (const [i, c] of ref.cases.entries()) {
    await t.test(`case ${i}: ${JSON.stringify(c.hypothesis)}`, () => {
      // The documented BLEU tokenisation is the one the reference used.
      assert.deepEqual(whitespaceTokenize(c.reference), c.bleu_tokens.reference);
      assert.deepEqual(whitespaceTokenize(c.hypothesis), c.bleu_tokens.hypothesis);

      const r = rougeScores(c.reference, c.hypothesis);
      assertClose(r.rouge1, c.rouge1_f, 1e-6, 'rouge1');
      assertClose(r.rouge2, c.rouge2_f, 1e-6, 'rouge2');
      assertClose(r.rougeL, c.rougeL_f, 1e-6, 'rougeL');

      const refs = [c.bleu_tokens.reference];
      assertClose(sentenceBleu(refs, c.bleu_tokens.hypothesis), c.sentence_bleu4, 1e-6, 'bleu4');
      assertClose(
        sentenceBleu(refs, c.bleu_tokens.hypothesis, { smoothing: 'method1' }),
        c.sentence_bleu4_smooth1,
        1e-6,
        'bleu4 smooth1',
      );
      assertClose(sentenceBleuText(c.reference, c.hypothesis), c.sentence_bleu4, 1e-6, 'bleu4 from text');
      // The tiny unsmoothed values (e.g. 6.7e-232) come from NLTK's sys.float_info.min substitute;
      // check them relatively so a plain 0 would fail.
      if (c.sentence_bleu4 > 0 && c.sentence_bleu4 < 1e-6) {
        const got = sentenceBleu(refs, c.bleu_tokens.hypothesis);
        assert.ok(Math.abs(got / c.sentence_bleu4 - 1) < 1e-9, `tiny bleu4 ${got} vs ${c.sentence_bleu4}`);
      }
    });
  }
});

test('metrics_reference.json: corpus BLEU-4 over the non-empty hypotheses', (t) => {
  const ref = load();
  if (typeof ref === 'string') {
    t.skip(ref);
    return;
  }
  const cases = ref.cases.filter((c) => c.bleu_tokens.hypothesis.length > 0);
  assert.ok(cases.length < ref.cases.length, 'the file has an empty hypothesis to leave out');
  const got = corpusBleu(cases.map((c) => [c.bleu_tokens.reference]), cases.map((c) => c.bleu_tokens.hypothesis));
  assertClose(got, ref.corpus_bleu4, 1e-6, 'corpus_bleu4');
  const refs = cases.map((c) => c.reference);
  const hyps = cases.map((c) => c.hypothesis);
  assertClose(corpusBleuText(refs, hyps), ref.corpus_bleu4, 1e-6, 'corpus_bleu4 from text');
  // scoreAll reports the same corpus BLEU and the mean of the per-case ROUGE values.
  const s = scoreAll(refs, hyps);
  assertClose(s.bleu, ref.corpus_bleu4, 1e-6, 'scoreAll.bleu');
  const mean = (f: (c: RefCase) => number) => cases.reduce((a, c) => a + f(c), 0) / cases.length;
  assertClose(s.rouge1, mean((c) => c.rouge1_f), 1e-6, 'scoreAll.rouge1');
  assertClose(s.rouge2, mean((c) => c.rouge2_f), 1e-6, 'scoreAll.rouge2');
  assertClose(s.rougeL, mean((c) => c.rougeL_f), 1e-6, 'scoreAll.rougeL');
});

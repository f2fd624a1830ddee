import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Tokenizer } from '@huggingface/tokenizers';
import { trainBPE, bpeToTokenizerJson, tokenizerConfigJson, BPEEncoder, fastEncoderUnsupported } from '../../src/tokenizer/index.js';
import { syntheticCorpus } from './helpers.js';

const model = trainBPE(syntheticCorpus(21), { vocabSize: 700, specialTokens: { bos: '<|endoftext|>', eos: '<|endoftext|>', pad: '<pad>' } });
const json = bpeToTokenizerJson(model);
const hf = new Tokenizer(json, tokenizerConfigJson(model));
const fast = new BPEEncoder(json);
const hfIds = (s: string) => (s.length === 0 ? [] : hf.encode(s, { add_special_tokens: false }).ids);

test('BPEEncoder gives the same ids as @huggingface/tokenizers', () => {
  const samples = [
    ...syntheticCorpus(22, 30),
    'a<|endoftext|>b<pad><pad> <|endoftext|>',
    'jane.doe@example.org 555-0100 Zürich 東京 😀👩‍💻',
    '  \n\n\t  ',
    '='.repeat(3000),
    ' '.repeat(5000) + 'x',
    'privacyprivacyprivacyprivacy the the the',
  ];
  for (const s of samples) assert.deepEqual(fast.encode(s), hfIds(s), `ids differ for ${JSON.stringify(s.slice(0, 60))}`);
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
      assert.deepEqual(fast.encode(s), hfIds(s));
    }),
    { numRuns: 300, seed: 5 },
  );
  // Words built from the trained vocabulary, where merge order matters most.
  const pieces = model.vocab.slice(258).map((t) => t.replace(/Ġ/g, ' ').replace(/Ċ/g, '\n'));
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 12 }), (ps) => {
      const s = ps.join('');
      assert.deepEqual(fast.encode(s), hfIds(s));
    }),
    { numRuns: 300, seed: 6 },
  );
});

test('BPEEncoder refuses tokenizers it does not implement', () => {
  assert.equal(fastEncoderUnsupported(json), null);
  assert.match(fastEncoderUnsupported({ ...json, pre_tokenizer: { type: 'Metaspace' } }) ?? '', /ByteLevel/);
  assert.throws(() => new BPEEncoder({ ...json, model: { ...(json.model as object), byte_fallback: true } }), /unsupported/);
});

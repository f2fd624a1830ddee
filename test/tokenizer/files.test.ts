import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Tokenizer } from '@huggingface/tokenizers';
import { trainBPE, saveTokenizer, loadTokenizerDir, bpeToTokenizerJson, tokenizerConfigJson, toByteLevel, type BPEModel } from '../../src/tokenizer/index.js';
import { syntheticCorpus, tmp } from './helpers.js';

const SPECIALS = { bos: '<|endoftext|>', eos: '<|endoftext|>', pad: '<pad>' };
let cached: { model: BPEModel; tok: Tokenizer; dir: string } | null = null;
function trained() {
  if (!cached) {
    const model = trainBPE(syntheticCorpus(11), { vocabSize: 600, specialTokens: SPECIALS });
    const dir = tmp();
    saveTokenizer(dir, model);
    cached = { model, tok: loadTokenizerDir(dir).tokenizer, dir };
  }
  return cached;
}
const roundTrip = (tok: Tokenizer, s: string) => (s.length === 0 ? '' : tok.decode(tok.encode(s, { add_special_tokens: false }).ids));

const SAMPLES = [
  'the privacy of split learning',
  'Hello, World! (x) -- "quoted" [brackets] {braces} a;b:c?',
  'Call 555-0100 or 1-800-123-4567 before 2024-12-31; pi ≈ 3.14159, 1e-5, 100%',
  'jane.doe+tag@example.org, bob_smith99@mail.co.uk',
  'Café crème, naïve façade, São Paulo, Zürich, ÅÄÖ åäö, ß, Ελλάδα, Москва',
  '東京は日本の首都です。数据隐私很重要。한국어 텍스트',
  'emoji 😀🎉 family 👨‍👩‍👧 flag 🇫🇷 skin 👍🏽 keycap 1️⃣',
  '  leading and trailing spaces  ',
  'tabs\tand\nnew\r\nlines\n\n\nand   runs  ',
  " it's don't we're I've I'm we'll he'd ' . , ",
  'zero\u200bwidth \u00a0nbsp \ufeffbom \u0000nul \u001fcontrol \u00ad',
  'a<|endoftext|>b <pad> c',
];

test('the written tokenizer.json loads in @huggingface/tokenizers and every sample round-trips exactly', () => {
  const { tok } = trained();
  for (const s of SAMPLES) assert.equal(roundTrip(tok, s), s, `round trip of ${JSON.stringify(s)}`);
});

test('any Unicode string round-trips (byte-level BPE has no unknown token)', () => {
  const { tok } = trained();
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => roundTrip(tok, s) === s),
    { numRuns: 300, seed: 42 },
  );
});

test('encoding uses the trained merges: frequent words are one token, every id is in range', () => {
  const { tok, model } = trained();
  for (const w of [' privacy', ' the', ' model', ' learning']) {
    const enc = tok.encode(w, { add_special_tokens: false });
    assert.deepEqual(enc.tokens, [toByteLevel(w)], `${JSON.stringify(w)} should be a single token`);
    assert.equal(enc.ids[0], model.vocab.indexOf(toByteLevel(w)));
  }
  const ids = tok.encode(SAMPLES.join(' '), { add_special_tokens: false }).ids;
  assert.ok(ids.every((i: number) => Number.isInteger(i) && i >= 0 && i < model.vocab.length));
  // A rare word is split into several pieces.
  assert.ok(tok.encode(' xylophonist', { add_special_tokens: false }).ids.length > 1);
  assert.equal(tok.get_vocab(true).size, model.vocab.length);
});

test('special tokens: fixed ids, matched whole in text, skipped on request, no BOS added by default', () => {
  const { tok, model } = trained();
  const eos = model.vocab.indexOf('<|endoftext|>');
  const pad = model.vocab.indexOf('<pad>');
  assert.deepEqual([eos, pad], [0, 1]);
  const ids = tok.encode('one<|endoftext|>two', { add_special_tokens: true }).ids;
  assert.equal(ids.filter((i: number) => i === eos).length, 1);
  assert.notEqual(ids[0], eos);
  assert.equal(tok.decode(ids, { skip_special_tokens: true }), 'onetwo');
  assert.equal(tok.decode([...tok.encode('x', { add_special_tokens: false }).ids, pad]), 'x<pad>');
  assert.equal(tok.token_to_id('<pad>'), pad);
});

test('addBos writes a post-processor that prepends the bos token', () => {
  const { model } = trained();
  const dir = tmp();
  saveTokenizer(dir, model, { addBos: true, modelMaxLength: 128 });
  const { tokenizer, config } = loadTokenizerDir(dir);
  const ids = tokenizer.encode('the model').ids;
  assert.equal(ids[0], 0);
  assert.equal(tokenizer.decode(ids, { skip_special_tokens: true }), 'the model');
  assert.deepEqual(tokenizer.encode('the model', { add_special_tokens: false }).ids, ids.slice(1));
  assert.equal(config.add_bos_token, true);
  assert.equal(config.model_max_length, 128);
});

test('tokenizer.json follows GPT-2\'s layout', () => {
  const { model, dir } = trained();
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  assert.equal(json.version, '1.0');
  assert.deepEqual(json.pre_tokenizer, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
  assert.equal(json.decoder.type, 'ByteLevel');
  assert.equal(json.post_processor.type, 'ByteLevel');
  assert.equal(json.normalizer, null);
  assert.equal(json.model.type, 'BPE');
  assert.equal(json.model.byte_fallback, false);
  const vocab = json.model.vocab as Record<string, number>;
  assert.equal(Object.keys(vocab).length, model.vocab.length);
  assert.deepEqual([...Object.values(vocab)].sort((a, b) => a - b), model.vocab.map((_, i) => i));
  for (const m of json.model.merges as string[]) {
    const parts = m.split(' ');
    assert.equal(parts.length, 2, `merge ${JSON.stringify(m)} is not "a b"`);
    assert.ok(parts[0]! in vocab && parts[1]! in vocab && parts[0]! + parts[1]! in vocab);
  }
  // The file lists the vocabulary in id order (integer-like tokens such as "0" included).
  const text = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
  const order = ['"<|endoftext|>": 0', '"!": 2', '"0": 17', '"Ā": 190'].map((k) => text.indexOf(k));
  assert.ok(order.every((p, i) => p > 0 && (i === 0 || p > order[i - 1]!)), `vocabulary not in id order: ${order}`);
  assert.deepEqual(json, JSON.parse(JSON.stringify(bpeToTokenizerJson(model))));
  // Ranks are the order of training.
  assert.deepEqual(json.model.merges, model.merges.map(([a, b]) => `${a} ${b}`));
  assert.deepEqual(
    json.added_tokens.map((t: { id: number; content: string; special: boolean }) => [t.id, t.content, t.special]),
    [[0, '<|endoftext|>', true], [1, '<pad>', true]],
  );
  const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  assert.equal(cfg.bos_token, '<|endoftext|>');
  assert.equal(cfg.eos_token, '<|endoftext|>');
  assert.equal(cfg.pad_token, '<pad>');
  assert.equal(cfg.clean_up_tokenization_spaces, false);
  assert.deepEqual(Object.keys(cfg.added_tokens_decoder), ['0', '1']);
});

test('saving writes only the two files (atomically, no temp files left) and overwrites in place', () => {
  const { model } = trained();
  const dir = tmp();
  saveTokenizer(join(dir, 'nested', 'tok'), model);
  saveTokenizer(join(dir, 'nested', 'tok'), model);
  assert.deepEqual(readdirSync(join(dir, 'nested', 'tok')).sort(), ['tokenizer.json', 'tokenizer_config.json']);
  // The in-memory objects load directly as well.
  const t = new Tokenizer(bpeToTokenizerJson(model), tokenizerConfigJson(model));
  assert.equal(t.decode(t.encode('Zürich 東京').ids), 'Zürich 東京');
});

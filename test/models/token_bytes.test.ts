// Each token's bytes, read from tokenizer.json: concatenated over an encoding they give back the
// text's UTF-8, for byte-level BPE (trained here) and SentencePiece-style byte fallback (stories260K).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HFTokenizer, loadTokenizer } from '../../src/models/tokenizer.js';
import { tokenByteTable, unreachableTokens } from '../../src/models/token_bytes.js';
import { trainBPE, bpeToTokenizerJson } from '../../src/tokenizer/index.js';
import { sharedPath, SHARED_MISSING } from '../helpers/shared.js';

const TEXT = 'Janet’s ducks lay 16 eggs — café naïve 😀 done.';
const utf8 = (s: string) => [...new TextEncoder().encode(s)];
const joined = (tok: HFTokenizer, ids: number[]) => ids.flatMap((id) => [...(tok.tokenBytes()[id] ?? [])]);

test('byte-level BPE: the tokens of an encoding hold the text’s bytes, special tokens none', () => {
  const model = trainBPE(['the ducks lay eggs', 'café and naïve words', 'a b c d e f g'], { vocabSize: 300 });
  const tok = new HFTokenizer(bpeToTokenizerJson(model));
  const ids = tok.encode(TEXT, { addBos: false, addEos: false });
  assert.deepEqual(joined(tok, ids), utf8(TEXT));
  assert.ok(ids.some((id) => { const b = tok.tokenBytes()[id]!; return b.length === 1 && b[0]! >= 0x80; }), 'the emoji is split into byte tokens');
  if (tok.eosTokenId !== null) assert.equal(tok.tokenBytes()[tok.eosTokenId], null);
});

test('SentencePiece-style byte fallback: <0xNN> pieces are one byte, ▁ a space', () => {
  const json = { model: { type: 'BPE', byte_fallback: true }, added_tokens: [{ id: 0, special: true }] };
  const pieces = ['<s>', '▁the', '<0xE2>', '<0x80>', 'x'];
  const table = tokenByteTable(json, (id) => pieces[id], pieces.length - 1);
  assert.deepEqual(table.map((b) => (b ? [...b] : null)), [null, [0x20, 0x74, 0x68, 0x65], [0xe2], [0x80], [0x78]]);
});

test('byte fallback never emits the byte pieces of characters the vocabulary has, nor the unknown token', () => {
  const vocab = { '<unk>': 0, '<s>': 1, '<0x20>': 2, '<0x40>': 3, '<0x61>': 4, '<0xC3>': 5, a: 6, '\u2581': 7 };
  const pieces = Object.keys(vocab);
  const json = { model: { type: 'BPE', byte_fallback: true, unk_token: '<unk>', vocab }, added_tokens: [{ id: 0, special: true }, { id: 1, special: true }] };
  assert.deepEqual([...unreachableTokens(json, (id) => pieces[id], pieces.length - 1)].sort(), [0, 2, 4], '<unk>, a space (▁ is a piece) and "a"; not "@" (no piece) nor a non-ASCII byte');
  assert.equal(unreachableTokens({ ...json, decoder: { type: 'ByteLevel' } }, (id) => pieces[id], pieces.length - 1).size, 0, 'byte-level BPE: every byte token can be emitted');
  assert.equal(unreachableTokens({ model: { type: 'BPE', vocab } }, (id) => pieces[id], pieces.length - 1).size, 0, 'without byte fallback: none known');
});

test('stories260K: an encoding’s bytes are the text’s (with the prefix space)', (t) => {
  const dir = sharedPath('models/stories260K');
  if (!dir) return t.skip(SHARED_MISSING('models/stories260K'));
  const tok = loadTokenizer(dir);
  const ids = tok.encode(TEXT, { addBos: false, addEos: false });
  assert.deepEqual(joined(tok, ids), utf8(` ${TEXT}`));
  assert.equal(tok.tokenBytes()[tok.bosTokenId!], null);
});

test('stories260K: no encoding holds an id it calls unreachable', (t) => {
  const dir = sharedPath('models/stories260K');
  if (!dir) return t.skip(SHARED_MISSING('models/stories260K'));
  const tok = loadTokenizer(dir);
  const never = tok.unreachableTokens();
  const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
  const text = `${ascii} tab\there\nline ${TEXT}`;
  const ids = tok.encode(text, { addBos: true, addEos: true });
  assert.ok(never.size >= 80, `most ASCII byte pieces are unreachable (${never.size})`);
  assert.deepEqual(ids.filter((id) => never.has(id)), []);
  assert.ok(ids.some((id) => /^<0x/.test(tok.idToToken(id)!)), 'the text does fall back to bytes somewhere');
});

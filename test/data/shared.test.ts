// Reads the data sets in ../shared/data when that folder exists (skipped otherwise).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTexts, parseTextSourceArg, splitDisjoint } from '../../src/data/index.js';
import { sharedPath, SHARED_MISSING } from '../helpers/shared.js';

function shared(t: { skip: (msg: string) => void }, name: string): string | undefined {
  const p = sharedPath(`data/${name}`);
  if (!p) t.skip(SHARED_MISSING(`data/${name}`));
  return p ?? undefined;
}

test('shared: SMSSpamCollection as tsv, column 1, no header', (t) => {
  const p = shared(t, 'SMSSpamCollection');
  if (!p) return;
  const texts = loadTexts(parseTextSourceArg(p, { format: 'tsv', column: '1', header: false }));
  assert.equal(texts.length, 5574);
  assert.ok(texts.every((s) => !/^(ham|spam)\t/.test(s)));
  assert.ok(texts.some((s) => s.startsWith('"')), 'quotes at the start of a message are kept');
});

test('shared: code_alpaca_2k.json with field instruction', (t) => {
  const p = shared(t, 'code_alpaca_2k.json');
  if (!p) return;
  const texts = loadTexts(parseTextSourceArg(p, { field: 'instruction' }));
  assert.ok(texts.length >= 2000, `${texts.length}`);
  assert.equal(texts[0], 'What are the distinct values from the given list?');
});

test('shared: dialogsum jsonl, split into disjoint train/held-out', (t) => {
  const p = shared(t, 'dialogsum.dev.jsonl');
  if (!p) return;
  const texts = loadTexts(parseTextSourceArg(p, { field: 'dialogue' }));
  assert.equal(texts.length, 500);
  assert.ok(texts.every((s) => s.includes('#Person1#')));
  const [train, held] = splitDisjoint(texts, [0.8, 0.2], 0);
  assert.equal(train!.filter((s) => held!.includes(s)).length, 0);
});

test('shared: tinyshakespeare auto-detected as paragraphs', (t) => {
  const p = shared(t, 'tinyshakespeare.txt');
  if (!p) return;
  const texts = loadTexts({ path: p });
  assert.ok(texts.length > 5000 && texts.length < 10000, `${texts.length}`);
  assert.equal(texts[0], 'First Citizen:\nBefore we proceed any further, hear me speak.');
});

test('shared: tinystories split on <|endoftext|>', (t) => {
  const p = shared(t, 'tinystories_sample.txt');
  if (!p) return;
  const texts = loadTexts(parseTextSourceArg(p, { separator: '<|endoftext|>' }));
  assert.ok(texts.length >= 2);
  assert.ok(texts.every((s) => !s.includes('<|endoftext|>')));
  assert.ok(texts[0]!.startsWith('Once upon a time'));
});

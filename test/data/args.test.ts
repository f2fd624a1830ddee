import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTexts, parseTextSourceArg } from '../../src/data/index.js';
import { throwsInput, tmpFile } from './helpers.js';

test('parseTextSourceArg: format by extension', () => {
  assert.equal(parseTextSourceArg('x.jsonl', { field: 'text' }).format, 'jsonl');
  assert.equal(parseTextSourceArg('x.json', { field: 'a.b' }).format, 'json');
  assert.equal(parseTextSourceArg('x.csv', { column: 'text' }).format, 'csv');
  assert.equal(parseTextSourceArg('x.TSV').format, 'tsv');
  assert.equal(parseTextSourceArg('notes.txt').format, 'auto');
  assert.equal(parseTextSourceArg('stories.txt', { separator: '<|endoftext|>' }).format, 'separated');
});

test('parseTextSourceArg: spamassassin:<group>', () => {
  const s = parseTextSourceArg('spamassassin:easy-ham-1', { limit: '5' });
  assert.deepEqual([s.format, s.format === 'spamassassin' && s.group, s.limit], ['spamassassin', 'easy-ham-1', 5]);
});

test('parseTextSourceArg: numeric column strings become indices, names stay names', () => {
  const a = parseTextSourceArg('sms', { format: 'tsv', column: '1', header: false });
  assert.ok(a.format === 'tsv' && a.column === 1 && a.header === false);
  const b = parseTextSourceArg('d.csv', { column: 'text' });
  assert.ok(b.format === 'csv' && b.column === 'text');
});

test('parseTextSourceArg output loads', () => {
  const p = tmpFile('d.jsonl', '{"m":{"t":"x"}}\n{"m":{"t":"y"}}\n');
  assert.deepEqual(loadTexts(parseTextSourceArg(p, { field: 'm.t', shuffleSeed: '1' })).sort(), ['x', 'y']);
});

test('parseTextSourceArg errors: misplaced flag, bad number, bad group, missing group', () => {
  throwsInput(() => parseTextSourceArg('notes.txt', { field: 'text' }), /--field applies to jsonl\/json sources/, /read as plain text \(format auto\)/);
  throwsInput(() => parseTextSourceArg('d.jsonl', { column: 'x' }), /--column applies to csv\/tsv/);
  throwsInput(() => parseTextSourceArg('d.txt', { limit: 'ten' }), /limit/);
  throwsInput(() => parseTextSourceArg('spamassassin:ham'), /unknown spamassassin group "ham"/, /easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2/);
  throwsInput(() => parseTextSourceArg('spamassassin'), /names no spamassassin group/, /spamassassin:easy-ham-1/);
  throwsInput(() => parseTextSourceArg('d.txt', { format: 'xml' }), /unknown format "xml"/);
  throwsInput(() => parseTextSourceArg('d.txt', { format: 'separated' }), /separator: format separated needs a document separator, e\.g\. "<\|endoftext\|>"/);
});

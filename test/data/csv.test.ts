import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTexts, parseDelimited } from '../../src/data/index.js';
import { throwsInput, tmpFile } from './helpers.js';

test('parseDelimited: quotes, escaped quotes, embedded delimiter and newline, CRLF', () => {
  const csv = 'id,text\r\n1,"He said ""hi"", then left"\r\n2,"line one\r\nline two"\r\n3,plain\r\n';
  const rows = parseDelimited(csv, { delimiter: ',', quoted: true });
  assert.deepEqual(
    rows.map((r) => r.fields),
    [['id', 'text'], ['1', 'He said "hi", then left'], ['2', 'line one\nline two'], ['3', 'plain']],
  );
  // Row 3 starts on line 5 because row 2 spans two lines.
  assert.deepEqual(rows.map((r) => r.line), [1, 2, 3, 5]);
});

test('parseDelimited: empty fields, no trailing newline, bare CR line ends', () => {
  assert.deepEqual(parseDelimited('a,,c\rd,e,', { delimiter: ',', quoted: true }).map((r) => r.fields), [
    ['a', '', 'c'],
    ['d', 'e', ''],
  ]);
});

test('parseDelimited: quoted: false treats quotes as text', () => {
  assert.deepEqual(parseDelimited('ham\t"Hi" she said\n', { delimiter: '\t', quoted: false })[0]!.fields, ['ham', '"Hi" she said']);
});

test('csv: column by header name, quoted fields with newlines', () => {
  const p = tmpFile('d.csv', 'id,text,label\r\n1,"Call me at 555-0100, Bob",x\r\n2,"multi\r\nline",y\r\n');
  assert.deepEqual(loadTexts({ path: p, format: 'csv', column: 'text' }), ['Call me at 555-0100, Bob', 'multi\nline']);
});

test('csv: column by index and case-insensitive header match', () => {
  const p = tmpFile('d.csv', 'ID,Text\n1,a\n2,b\n');
  assert.deepEqual(loadTexts({ path: p, format: 'csv', column: 1 }), ['a', 'b']);
  assert.deepEqual(loadTexts({ path: p, format: 'csv', column: 'text' }), ['a', 'b']);
});

test('csv: a single column needs no --column', () => {
  const p = tmpFile('one.csv', 'text\nx\ny\n');
  assert.deepEqual(loadTexts({ path: p, format: 'csv' }), ['x', 'y']);
});

test('tsv without header (label<TAB>text), quotes kept as text', () => {
  const p = tmpFile('sms', 'ham\tGo until jurong point\nspam\tFree entry: text 87121\nham\t"Hi" she said\n');
  assert.deepEqual(loadTexts({ path: p, format: 'tsv', column: 1, header: false }), [
    'Go until jurong point',
    'Free entry: text 87121',
    '"Hi" she said',
  ]);
});

test('error: column not in header lists the header', () => {
  const p = tmpFile('d.csv', 'id,body\n1,a\n');
  const e = throwsInput(() => loadTexts({ path: p, format: 'csv', column: 'text' }), /column "text" not in the header/, /"id", "body"/);
  assert.match(e.hint, /--column/);
});

test('error: several columns and none chosen', () => {
  const p = tmpFile('d.csv', 'id,body\n1,a\n');
  throwsInput(() => loadTexts({ path: p, format: 'csv' }), /2 columns and no column was chosen/, /header: id, body/);
});

test('error: named column without a header', () => {
  const p = tmpFile('d.tsv', 'a\tb\n');
  throwsInput(() => loadTexts({ path: p, format: 'tsv', column: 'text', header: false }), /is a name but .* without a header/);
});

test('error: short row names its line', () => {
  const p = tmpFile('d.tsv', 'ham\tok\nbroken\n');
  throwsInput(() => loadTexts({ path: p, format: 'tsv', column: 1, header: false }), /line 2 of .* has 1 field\(s\), no column 1/);
});

test('error: unterminated quote names the line it starts on', () => {
  const p = tmpFile('d.csv', 'id,text\n1,"never closed\n2,x\n');
  throwsInput(() => loadTexts({ path: p, format: 'csv', column: 'text' }), /unterminated quoted field starting on line 2/);
});

test('error: text after a closing quote', () => {
  const p = tmpFile('d.csv', 'id,text\n1,"a"b\n');
  const e = throwsInput(() => loadTexts({ path: p, format: 'csv', column: 'text' }), /after a closing quote on line 2/);
  assert.match(e.hint, /quoted: false/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTexts } from '../../src/data/index.js';
import { detectTextFormat, splitParagraphs } from '../../src/data/text.js';
import { missingPath, throwsInput, tmpFile } from './helpers.js';

test('lines: one sample per line, blank lines and surrounding spaces dropped', () => {
  const p = tmpFile('a.txt', 'alpha\n\n  beta  \ngamma\n');
  assert.deepEqual(loadTexts({ path: p, format: 'lines' }), ['alpha', 'beta', 'gamma']);
});

test('lines: CRLF line ends and a BOM are handled', () => {
  const p = tmpFile('crlf.txt', '\ufeffone\r\ntwo\r\nthree\r\n');
  assert.deepEqual(loadTexts({ path: p, format: 'lines' }), ['one', 'two', 'three']);
});

test('lines: trim: false keeps inner whitespace of a line', () => {
  const p = tmpFile('t.txt', '  x  \ny\n');
  assert.deepEqual(loadTexts({ path: p, format: 'lines', trim: false }), ['  x  ', 'y']);
});

test('paragraphs: blank-line separated blocks, multi-line kept together', () => {
  const p = tmpFile('p.txt', '\nFirst line\nsecond line\n\n\n  \nThird\nfourth\n\nlast\n');
  assert.deepEqual(loadTexts({ path: p, format: 'paragraphs' }), ['First line\nsecond line', 'Third\nfourth', 'last']);
});

test('auto: multi-line blocks -> paragraphs', () => {
  const p = tmpFile('auto-p.txt', 'A: hi\nB: hello\n\nA: bye\nB: see you\n\nC: alone\n');
  assert.deepEqual(loadTexts({ path: p }), ['A: hi\nB: hello', 'A: bye\nB: see you', 'C: alone']);
});

test('auto: single-line blocks or no blank lines -> lines', () => {
  const spaced = tmpFile('auto-l.txt', 'one\n\ntwo\n\nthree\n');
  assert.deepEqual(loadTexts({ path: spaced, format: 'auto' }), ['one', 'two', 'three']);
  const plain = tmpFile('auto-l2.txt', 'one\ntwo\nthree\n');
  assert.deepEqual(loadTexts({ path: plain }), ['one', 'two', 'three']);
});

test('auto: a long line file with one stray blank line stays lines', () => {
  const lines = Array.from({ length: 200 }, (_, i) => `sentence number ${i}`);
  const text = [...lines.slice(0, 100), '', ...lines.slice(100)].join('\n');
  assert.equal(detectTextFormat(text), 'lines');
  assert.equal(loadTexts({ path: tmpFile('stray.txt', text) }).length, 200);
});

test('splitParagraphs keeps whitespace-only lines as separators', () => {
  assert.deepEqual(splitParagraphs('a\nb\n \t \nc'), ['a\nb', 'c']);
});

test('separated: custom separator such as <|endoftext|>', () => {
  const p = tmpFile('stories.txt', 'Once upon a time.\nThe end.\n<|endoftext|>\nAnother story.\n<|endoftext|>\n');
  assert.deepEqual(loadTexts({ path: p, format: 'separated', separator: '<|endoftext|>' }), [
    'Once upon a time.\nThe end.',
    'Another story.',
  ]);
});

test('error: missing file names the path and the resolved location', () => {
  const p = missingPath('nope.txt');
  const e = throwsInput(() => loadTexts({ path: p }), /file not found/, /nope\.txt/);
  assert.match(e.hint, /resolved to/);
});

test('error: a directory is not a file', () => {
  const p = tmpFile('x.txt', 'x');
  throwsInput(() => loadTexts({ path: p.replace(/x\.txt$/, '') }), /not a regular file/);
});

test('error: empty file -> "no samples found in X: check --format"', () => {
  const p = tmpFile('empty.txt', '\n  \n\n');
  throwsInput(() => loadTexts({ path: p }), /no samples found in .*empty\.txt/, /check --format/);
});

test("error: format 'auto' on a .jsonl file points at format jsonl", () => {
  const p = tmpFile('d.jsonl', '{"text":"a"}\n');
  throwsInput(() => loadTexts({ path: p }), /looks structured/, /format: 'jsonl'/);
  // ...while an explicit 'lines' reads the raw lines.
  assert.deepEqual(loadTexts({ path: p, format: 'lines' }), ['{"text":"a"}']);
});

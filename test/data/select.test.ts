import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTexts, mulberry32, seededShuffle } from '../../src/data/index.js';
import { truncate } from '../../src/data/select.js';
import { throwsInput, tmpFile } from './helpers.js';

const hundred = Array.from({ length: 100 }, (_, i) => `sample ${i}`);
const file = () => tmpFile('h.txt', hundred.join('\n'));

test('limit and offset take a window in file order', () => {
  assert.deepEqual(loadTexts({ path: file(), format: 'lines', offset: 10, limit: 3 }), ['sample 10', 'sample 11', 'sample 12']);
});

test('shuffleSeed: same seed same order, different seed different order, same set', () => {
  const p = file();
  const a = loadTexts({ path: p, format: 'lines', shuffleSeed: 7 });
  const b = loadTexts({ path: p, format: 'lines', shuffleSeed: 7 });
  const c = loadTexts({ path: p, format: 'lines', shuffleSeed: 8 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, hundred);
  assert.notDeepEqual(a, c);
  assert.deepEqual([...a].sort(), [...hundred].sort());
});

test('shuffle happens before offset/limit: windows of one seed are disjoint', () => {
  const p = file();
  const first = loadTexts({ path: p, format: 'lines', shuffleSeed: 3, limit: 50 });
  const second = loadTexts({ path: p, format: 'lines', shuffleSeed: 3, offset: 50, limit: 50 });
  assert.equal(first.length, 50);
  assert.equal(second.length, 50);
  assert.equal(first.filter((t) => second.includes(t)).length, 0);
});

test('mulberry32 is deterministic and in [0, 1)', () => {
  const r1 = mulberry32(42);
  const r2 = mulberry32(42);
  const xs = Array.from({ length: 1000 }, () => r1());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => r2()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.ok(new Set(xs).size > 990);
  assert.deepEqual(seededShuffle([1, 2, 3, 4, 5], 1), seededShuffle([1, 2, 3, 4, 5], 1));
});

test('dedupe keeps the first occurrence', () => {
  const p = tmpFile('dup.txt', 'a\nb\na\nc\nb\n');
  assert.deepEqual(loadTexts({ path: p, format: 'lines', dedupe: true }), ['a', 'b', 'c']);
  assert.equal(loadTexts({ path: p, format: 'lines' }).length, 5);
});

test('minChars drops short samples, maxChars truncates', () => {
  const p = tmpFile('len.txt', 'hi\nhello world\nabcdefghijklmnop\n');
  assert.deepEqual(loadTexts({ path: p, format: 'lines', minChars: 5 }), ['hello world', 'abcdefghijklmnop']);
  assert.deepEqual(loadTexts({ path: p, format: 'lines', maxChars: 5 }), ['hi', 'hello', 'abcde']);
});

test('dedupe applies after truncation', () => {
  const p = tmpFile('tr.txt', 'same prefix A\nsame prefix B\n');
  assert.deepEqual(loadTexts({ path: p, format: 'lines', maxChars: 11, dedupe: true }), ['same prefix']);
});

test('truncate never splits a surrogate pair', () => {
  assert.equal(truncate('ab😀cd', 3), 'ab');
  assert.equal(truncate('ab😀cd', 4), 'ab😀');
});

test('error: minChars removes everything', () => {
  const p = tmpFile('s.txt', 'a\nb\n');
  throwsInput(() => loadTexts({ path: p, format: 'lines', minChars: 10 }), /all 2 are shorter than minChars=10/);
});

test('error: offset past the end', () => {
  throwsInput(() => loadTexts({ path: file(), format: 'lines', offset: 100 }), /offset=100 is past the 100 available samples/);
});

test('error: invalid options are reported by name', () => {
  const p = file();
  throwsInput(() => loadTexts({ path: p, format: 'lines', limit: -1 }), /invalid text source/, /limit/);
  throwsInput(() => loadTexts({ path: p, format: 'lines', minChars: 10, maxChars: 5 }), /maxChars \(5\) is below minChars \(10\)/);
  // @ts-expect-error: unknown key (a typo) is rejected, not ignored
  throwsInput(() => loadTexts({ path: p, format: 'lines', limt: 5 }), /Unrecognized key.*limt/);
  // @ts-expect-error: unknown format
  throwsInput(() => loadTexts({ path: p, format: 'yaml' }), /unknown format "yaml"/, /jsonl/);
});

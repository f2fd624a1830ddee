import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTexts } from '../../src/data/index.js';
import { getPath } from '../../src/data/json.js';
import { throwsInput, tmpFile } from './helpers.js';

const jsonl = [
  '{"id":1,"meta":{"text":"first record"},"turns":[{"content":"hi"}]}',
  '',
  '{"id":2,"meta":{"text":"second record"},"turns":[{"content":"yo"}]}',
].join('\n');

test('jsonl: dotted field path, blank lines skipped', () => {
  const p = tmpFile('d.jsonl', jsonl);
  assert.deepEqual(loadTexts({ path: p, format: 'jsonl', field: 'meta.text' }), ['first record', 'second record']);
});

test('jsonl: array index in a dotted path', () => {
  const p = tmpFile('d.jsonl', jsonl);
  assert.deepEqual(loadTexts({ path: p, format: 'jsonl', field: 'turns.0.content' }), ['hi', 'yo']);
});

test('jsonl: numbers become text; lines that are strings need no field', () => {
  assert.deepEqual(loadTexts({ path: tmpFile('n.jsonl', jsonl), format: 'jsonl', field: 'id' }), ['1', '2']);
  assert.deepEqual(loadTexts({ path: tmpFile('s.jsonl', '"a"\n"b"\n'), format: 'jsonl' }), ['a', 'b']);
});

test('getPath prefers a key that contains a dot', () => {
  assert.deepEqual(getPath({ 'a.b': 1, a: { b: 2 } }, 'a.b'), { found: true, value: 1 });
  assert.deepEqual(getPath({ a: { b: 2 } }, 'a.b'), { found: true, value: 2 });
  assert.equal(getPath({ a: { b: 2 } }, 'a.c').found, false);
});

test('json: array of objects with a field', () => {
  const p = tmpFile('d.json', JSON.stringify([{ instruction: 'Do X' }, { instruction: 'Do Y', input: '' }]));
  assert.deepEqual(loadTexts({ path: p, format: 'json', field: 'instruction' }), ['Do X', 'Do Y']);
});

test('error: field missing names the line number and the keys present', () => {
  const p = tmpFile('m.jsonl', '{"text":"ok"}\n{"txt":"bad"}\n');
  const e = throwsInput(() => loadTexts({ path: p, format: 'jsonl', field: 'text' }), /field "text" not found on line 2 of/, /keys there: txt/);
  assert.match(e.hint, /--field/);
});

test('error: nested field missing says where the path stopped', () => {
  const p = tmpFile('m.jsonl', '{"meta":{"body":"x"}}\n');
  throwsInput(() => loadTexts({ path: p, format: 'jsonl', field: 'meta.text' }), /line 1/, /stopped at "text"/, /keys there: body/);
});

test('error: malformed JSON line names the line number', () => {
  const p = tmpFile('bad.jsonl', '{"text":"a"}\n{"text": "b",}\n');
  throwsInput(() => loadTexts({ path: p, format: 'jsonl', field: 'text' }), /malformed JSON on line 2 of .*bad\.jsonl/);
});

test('error: object records without --field list the keys', () => {
  const p = tmpFile('o.jsonl', '{"question":"q","answer":"a"}\n');
  const e = throwsInput(() => loadTexts({ path: p, format: 'jsonl' }), /line 1 .* is an object, not a string/);
  assert.match(e.hint, /question, answer/);
});

test('error: field pointing at an object suggests a deeper path', () => {
  const p = tmpFile('o.jsonl', '{"meta":{"text":"x"}}\n');
  const e = throwsInput(() => loadTexts({ path: p, format: 'jsonl', field: 'meta' }), /"meta" on line 1 .* is an object, not text/);
  assert.match(e.hint, /meta\.text/);
});

test('error: json format on a JSON Lines file suggests jsonl', () => {
  const p = tmpFile('l.json', '{"a":"x"}\n{"a":"y"}\n');
  const e = throwsInput(() => loadTexts({ path: p, format: 'json', field: 'a' }), /malformed JSON in/);
  assert.match(e.hint, /format jsonl/);
});

test('error: json file holding an object, not an array', () => {
  const p = tmpFile('obj.json', '{"data":[{"a":"x"}]}');
  throwsInput(() => loadTexts({ path: p, format: 'json', field: 'a' }), /holds an object, not an array/, /keys: data/);
});

test('error: JSON array element without the field names its index', () => {
  const p = tmpFile('arr.json', JSON.stringify([{ a: 'x' }, { b: 'y' }]));
  throwsInput(() => loadTexts({ path: p, format: 'json', field: 'a' }), /not found on element 1 of/);
});

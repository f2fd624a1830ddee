import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseExamples } from '../../src/audit/examples.js';

const windows = [
  'ie',
  'Subject: RE: [ILUG] SUSE 8 disks?',
  'From: Niall O Broin <niall@linux.ie> wrote on Fri, 23 Aug 2002',
  'the kernel build finished without errors after the patch was applied to the tree',
  'call me on 555-123-4567 tomorrow',
  'ok',
  'a long line about mail servers and how the queue keeps growing every night at two',
];

test('examples: windows holding PII first (most spans first), then the longest; never the shortest', () => {
  const chosen = chooseExamples(windows, 4, 0);
  assert.deepEqual(chosen.map((c) => c.chosen), ['pii', 'pii', 'longest', 'longest']);
  assert.equal(chosen[0]!.index, 2, 'the window with a name, an e-mail address and a date');
  assert.equal(chosen[1]!.index, 4);
  assert.deepEqual(chosen.slice(2).map((c) => c.index).sort(), [3, 6]);
  assert.ok(!chosen.some((c) => c.index === 0 || c.index === 5));
});

test('examples: seeded ties, as many as asked or as there are, no window twice', () => {
  const same = Array.from({ length: 10 }, (_, i) => `window number ${i}`);
  assert.deepEqual(chooseExamples(same, 3, 1), chooseExamples(same, 3, 1));
  assert.notDeepEqual(chooseExamples(same, 3, 1).map((c) => c.index), chooseExamples(same, 3, 2).map((c) => c.index));
  assert.equal(chooseExamples(windows, 20, 0).length, windows.length);
  assert.equal(new Set(chooseExamples(windows, 20, 0).map((c) => c.index)).size, windows.length);
  assert.deepEqual(chooseExamples(windows, 0, 0), []);
});

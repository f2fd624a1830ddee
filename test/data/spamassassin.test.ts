import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTexts, SPAMASSASSIN_GROUPS, spamAssassinMessages } from '../../src/data/index.js';
import { throwsInput } from './helpers.js';

test('spamassassin: groups are the package groups', () => {
  assert.deepEqual([...SPAMASSASSIN_GROUPS], ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2']);
});

test('spamassassin: hard-ham-1 loads 250 message bodies without header lines, deterministically', () => {
  const t0 = performance.now();
  const a = loadTexts({ format: 'spamassassin', group: 'hard-ham-1' });
  const ms = performance.now() - t0;
  assert.equal(a.length, 250);
  assert.ok(ms < 10_000, `loading took ${ms.toFixed(0)} ms`);
  const headerLine = /^(Received|Message-ID|Return-Path|Delivered-To|X-Mailer|MIME-Version|Content-Transfer-Encoding):/m;
  const withHeaders = a.filter((t) => headerLine.test(t));
  assert.equal(withHeaders.length, 0, withHeaders[0]?.slice(0, 300));
  assert.ok(a.filter((t) => t.startsWith('Subject: ')).length >= 240, 'bodies start with their subject');
  assert.ok(a.every((t) => t.trim().length > 0));
  const raw = spamAssassinMessages('hard-ham-1');
  assert.ok(raw.every((m) => /^Received:/m.test(m) || /^Return-Path:/m.test(m) || /^From /.test(m)), 'raw messages carry headers');
  const total = a.reduce((s, t) => s + t.length, 0);
  const rawTotal = raw.reduce((s, t) => s + t.length, 0);
  assert.ok(total < rawTotal / 2, `bodies (${total}) should be much shorter than raw (${rawTotal})`);
  assert.deepEqual(loadTexts({ format: 'spamassassin', group: 'hard-ham-1' }), a);
});

test('spamassassin: shuffled subset is deterministic; raw keeps headers; subject optional', () => {
  const a = loadTexts({ format: 'spamassassin', group: 'spam-1', shuffleSeed: 5, limit: 20 });
  const b = loadTexts({ format: 'spamassassin', group: 'spam-1', shuffleSeed: 5, limit: 20 });
  assert.equal(a.length, 20);
  assert.deepEqual(a, b);
  const raw = loadTexts({ format: 'spamassassin', group: 'spam-1', raw: true, limit: 3 });
  assert.ok(raw.every((m) => /^(Received|Return-Path|Message-Id|From):/im.test(m)));
  const noSubject = loadTexts({ format: 'spamassassin', group: 'spam-1', subject: false, limit: 50 });
  assert.ok(noSubject.every((t) => !t.startsWith('Subject:')));
});

test('spamassassin: every group is non-empty and bodies carry digits (PII such as numbers kept)', () => {
  for (const group of SPAMASSASSIN_GROUPS) {
    const a = loadTexts({ format: 'spamassassin', group, limit: 100 });
    assert.equal(a.length, 100, group);
    assert.ok(a.filter((t) => /\d{3}/.test(t)).length > 30, `${group}: few numbers survived`);
    assert.ok(a.filter((t) => /[\w.-]+@[\w-]+\.[\w.]+/.test(t)).length > 5, `${group}: few addresses survived`);
  }
});

test('error: unknown group lists the valid groups', () => {
  // @ts-expect-error: not a group name
  throwsInput(() => loadTexts({ format: 'spamassassin', group: 'hard-ham' }), /unknown spamassassin group "hard-ham"/, /hard-ham-1/, /easy-ham-2/);
  throwsInput(() => spamAssassinMessages('ham'), /unknown spamassassin group "ham"/, /spamassassin:spam-2/);
});

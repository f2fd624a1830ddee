import { test } from 'node:test';
import assert from 'node:assert/strict';
import { piiRecovery, piiRecoveryCorpus } from '../../src/metrics/index.js';
import { piiFound as found } from './helpers.js';

test('e-mail addresses, without trailing punctuation', () => {
  assert.deepEqual(found('Mail john.smith+work@mail.example.co.uk or ADMIN@Example.ORG.'), [
    ['email', 'john.smith+work@mail.example.co.uk'],
    ['email', 'ADMIN@Example.ORG'],
  ]);
  // Digits inside an address are not a second span.
  assert.deepEqual(found('user12345678@host.io'), [['email', 'user12345678@host.io']]);
  assert.deepEqual(found('not an address: a@b, @home, x@y.z'), []);
});

test('phone numbers in international, North American, UK and US-local formats', () => {
  const phones = [
    '+44 20 7946 0958',
    '+1 (555) 123-4567',
    '+447700900123',
    '(555) 123-4567',
    '555-123-4567',
    '555.123.4567',
    '1-800-555-0199',
    '020 7946 0958',
    '07700 900123',
    '0161 496 0000',
    '555-0142',
  ];
  for (const p of phones) {
    assert.deepEqual(found(`Ring ${p}, thanks.`), [['phone', p]], p);
  }
  // Too few digits for any phone shape.
  assert.deepEqual(found('Dial +44 12 or 12-3456.'), []);
});

test('digit runs: >= 5 digits, card groups, SSN; decimals and small numbers are not', () => {
  assert.deepEqual(found('Account 12345678, card 4417 1234 5678 9113, SSN 123-45-6789, ref ACC99887.'), [
    ['digits', '12345678'],
    ['digits', '4417 1234 5678 9113'],
    ['digits', '123-45-6789'],
    ['digits', '99887'],
  ]);
  assert.deepEqual(found('Pay $2,500,000 at 3.14159 in 2024 for 1234 items.'), []);
});

test('names: listed Title-case whole words only', () => {
  assert.deepEqual(found("Dear Jane Doe, Mr O'Brien and Lily's friend McDonald met 'Max'."), [
    ['name', 'Jane'],
    ['name', 'Doe'],
    ['name', "O'Brien"],
    ['name', 'Lily'],
    ['name', 'McDonald'],
    ['name', 'Max'],
  ]);
  // Lowercase, all-caps, inside a longer word, and ambiguous words left off the list.
  assert.deepEqual(found('lily JANE Janeway Will May Monday Hello World'), []);
});

test('mixed text is split into kinds in priority order', () => {
  assert.deepEqual(found('Please call me at 555-0142 or write to jane.doe@example.com before Friday.'), [
    ['phone', '555-0142'],
    ['email', 'jane.doe@example.com'],
  ]);
});

test('recovery: verbatim for e-mail/phone/digits, case-insensitive whole word for names', () => {
  const ref = 'Call Jane at 555-0142 or jane@example.com, acct 9876543.';
  const r = piiRecovery(ref, 'call JANE at 555 0142 or jane@example.com acct 9876543');
  assert.equal(r.total, 4);
  assert.equal(r.recovered, 3);
  assert.equal(r.rate, 0.75);
  assert.deepEqual(
    r.spans.map((s) => [s.kind, s.recovered]),
    [['name', true], ['phone', false], ['email', true], ['digits', true]],
  );
  // E-mail match is case-sensitive; a name must be a whole word but its case is free.
  assert.equal(piiRecovery('Write to jane@example.com', 'Write to Jane@Example.com').recovered, 0);
  assert.equal(piiRecovery('Ask Jane.', 'Ask Janet.').recovered, 0);
  assert.equal(piiRecovery('Ask Jane.', 'ask JANE!').recovered, 1);
  // Digit spans are substrings: separators must match too.
  assert.equal(piiRecovery('card 4417 1234 5678 9113', 'card 4417123456789113').recovered, 0);
  assert.equal(piiRecovery(ref, ref).rate, 1);
  assert.equal(piiRecovery(ref, '').rate, 0);
});

test('no PII gives rate null; corpus rate pools spans', () => {
  const none = piiRecovery('the weather is nice', 'the weather is nice');
  assert.deepEqual(none, { total: 0, recovered: 0, rate: null, spans: [] });
  const refs = ['Jane called.', 'Call 555-0142, 555-0199 or 555-0100.', 'nothing here'];
  const hyps = ['Jane called.', 'no numbers', 'nothing here'];
  // Pooled: 1 of 4 spans (a mean of per-text rates would be (1 + 0) / 2 = 0.5).
  assert.deepEqual(piiRecoveryCorpus(refs, hyps), { total: 4, recovered: 1, rate: 0.25 });
  assert.deepEqual(piiRecoveryCorpus(['no pii'], ['x']), { total: 0, recovered: 0, rate: null });
  assert.throws(() => piiRecoveryCorpus(['a'], []), RangeError);
});

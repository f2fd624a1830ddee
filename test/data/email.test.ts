import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emailBody, htmlToText } from '../../src/data/index.js';

const simple = [
  'From alice@example.com  Thu Aug 22 12:36:23 2002',
  'Return-Path: <alice@example.com>',
  'Received: from mail.example.com (mail.example.com [10.0.0.1])',
  '\tby mx.example.org with ESMTP id 123',
  'Received: from localhost',
  '    by mail.example.com',
  'Message-ID: <abc@example.com>',
  'Subject: Lunch on Friday',
  'From: Alice Smith <alice@example.com>',
  '',
  'Hi Bob,',
  '',
  'Call me at +1 512 374 0500 or write to 44 Farquhar Street, Boston, MA 02131.',
  '',
  '-- ',
  'Alice Smith <alice@example.com>',
  '',
].join('\r\n');

test('emailBody: headers dropped (folded ones too), subject kept, PII in body kept', () => {
  const b = emailBody(simple);
  assert.ok(b.startsWith('Subject: Lunch on Friday\n\nHi Bob,'), b);
  assert.doesNotMatch(b, /Received:|Message-ID:|Return-Path:|by mx\.example\.org|by mail\.example\.com/);
  assert.match(b, /\+1 512 374 0500/);
  assert.match(b, /44 Farquhar Street, Boston, MA 02131/);
  assert.match(b, /Alice Smith <alice@example\.com>$/);
});

test('emailBody: keepSubject false', () => {
  assert.ok(emailBody(simple, { keepSubject: false }).startsWith('Hi Bob,'));
});

test('emailBody: multipart/alternative prefers text/plain; attachments skipped', () => {
  const raw = [
    'Subject: =?iso-8859-1?Q?Caf=E9_news?=',
    'Content-Type: multipart/mixed; boundary="OUTER"',
    '',
    'preamble',
    '--OUTER',
    'Content-Type: multipart/alternative; boundary=INNER',
    '',
    '--INNER',
    'Content-Type: text/html',
    '',
    '<p>HTML version</p>',
    '--INNER',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Plain version for Jos\u00e9',
    '--INNER--',
    '--OUTER',
    'Content-Type: application/pdf; name="cv.pdf"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment',
    '',
    'JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29kZT4+',
    '--OUTER--',
    'epilogue',
  ].join('\n');
  assert.equal(emailBody(raw), 'Subject: Café news\n\nPlain version for José');
});

test('emailBody: quoted-printable HTML is decoded and reduced to text', () => {
  const raw = [
    'Subject: Offer',
    'Content-Type: text/html; charset="iso-8859-1"',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    '<html><head><style>p {color:red}</style></head><body>',
    '<p>Dear Ren=E9e,</p><p>Call <b>1-888-557-5744</b> &amp; ask for=',
    ' John&nbsp;Doe.<br>Thanks</p>',
    '<script>var x = 1;</script></body></html>',
  ].join('\n');
  const b = emailBody(raw, { keepSubject: false });
  assert.equal(b, 'Dear Renée,\n\nCall 1-888-557-5744 & ask for John Doe.\nThanks');
});

test('emailBody: base64 text part is decoded', () => {
  const raw = ['Subject: b64', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', Buffer.from('Meet Zoë at 10:30').toString('base64')].join('\n');
  assert.equal(emailBody(raw, { keepSubject: false }), 'Meet Zoë at 10:30');
});

test('emailBody: list footers, PGP armour and pasted transport headers removed', () => {
  const raw = [
    'Subject: Re: bug',
    '',
    '-----BEGIN PGP SIGNED MESSAGE-----',
    'Hash: SHA1',
    '',
    'Patch attached, ask Chris Garrigues.',
    'Received: from host (1.2.3.4)',
    '\tby relay',
    'Quoted body stays.',
    '-----BEGIN PGP SIGNATURE-----',
    'iD8DBQE9ZQJ/',
    '-----END PGP SIGNATURE-----',
    '',
    '_______________________________________________',
    'Exmh-workers mailing list',
    'Exmh-workers@redhat.com',
    'https://listman.redhat.com/mailman/listinfo/exmh-workers',
  ].join('\n');
  assert.equal(emailBody(raw, { keepSubject: false }), 'Patch attached, ask Chris Garrigues.\nQuoted body stays.');
});

test('htmlToText decodes numeric entities and drops comments', () => {
  assert.equal(htmlToText('<!-- hidden -->A&#39;s &#x41; <i>b</i>'), "A's A b");
});

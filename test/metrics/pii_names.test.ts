import { test } from 'node:test';
import assert from 'node:assert/strict';
import { piiRecovery, type PiiKind } from '../../src/metrics/index.js';
import { piiFound as found } from './helpers.js';

const names = (text: string) => found(text).filter(([k]) => k === 'name').map(([, t]) => t);

test('names outside the lexicon, next to an address or before "wrote:"', () => {
  assert.deepEqual(found(`"Niall O'Brien" <niall.obrien@example.ie> wrote:`), [
    ['name', 'Niall'],
    ['name', "O'Brien"],
    ['email', 'niall.obrien@example.ie'],
  ]);
  assert.deepEqual(names('On Fri, 23 Aug 2002, Ciaran Mac Giolla wrote:\n> Does anyone have a spare SCSI cable?'), ['Ciaran', 'Giolla']);
  assert.deepEqual(names('Theo Van Dinter <felicity@example.org> writes:'), ['Theo', 'Dinter']);
  assert.deepEqual(names('>>>Robert Elz said:\n> I kind of doubt it'), ['Robert', 'Elz']);
  assert.deepEqual(names('reports go to bugs@example.org (Aoife Brennan) first'), ['Aoife', 'Brennan']);
  // Victim segments have their line breaks collapsed, and end anywhere, even inside an address.
  assert.deepEqual(names('-0700 (PDT), Joshua Daniel Franklin <joshuadfr'), ['Joshua', 'Daniel', 'Franklin']);
});

test('names in forwarded headers, greetings, sign-offs and signatures', () => {
  const forwarded = '-----Original Message-----\nFrom: Aoife Brennan [mailto:aoife@example.ie]\n' +
    'Sent: Thursday, August 15, 2002 2:53 PM\nTo: Eoin Kavanagh\nSubject: RE: [ILUG] SUSE 8 disks?\n';
  assert.deepEqual(found(forwarded), [
    ['name', 'Aoife'],
    ['name', 'Brennan'],
    ['email', 'aoife@example.ie'],
    ['date', 'Thursday, August 15, 2002'],
    ['name', 'Eoin'],
    ['name', 'Kavanagh'],
  ]);
  const reply = 'Hi Niall,\n\nThe mirror is back up; I rebuilt the RAID last night.\n\nThanks,\nSiobhan\n';
  assert.deepEqual(names(reply), ['Niall', 'Siobhan']);
  assert.deepEqual(names(reply.replace(/\s+/g, ' ')), ['Niall', 'Siobhan'], 'same with line breaks collapsed');
  assert.deepEqual(names('Works for me now.\n\nRegards,\nDeclan Fitzgerald\n'), ['Declan', 'Fitzgerald']);
  assert.deepEqual(names('Cheers Greg ************************** This e-mail is confidential'), ['Greg']);
  assert.deepEqual(names('Dear Mr Ferriter, your order shipped.'), ['Ferriter']);
  assert.deepEqual(names('that should do it.\n-- \nDermot Finnegan\nhttp://www.example.com/~dermot\n'), ['Dermot', 'Finnegan']);
  assert.deepEqual(names('patch attached. --Fergal'), ['Fergal']);
  assert.deepEqual(names('See you there.\n- Matthew\n______________________________'), ['Matthew']);
});

test('a name a cue or an address gives is a name everywhere in the text', () => {
  // From the address's local part, and from the signature, to the earlier mentions.
  assert.deepEqual(names('Ask Cormac, he wrote the script: cormac.doyle@example.ie'), ['Cormac']);
  assert.deepEqual(names('Colm thinks so too. -- Colm Buckley | colm@example.ie'), ['Colm', 'Colm', 'Buckley']);
  // A lexicon first name followed by a Title-case word: a surname.
  assert.deepEqual(names('I forwarded it to Daniel Higgins yesterday.'), ['Daniel', 'Higgins']);
});

test('names: precision on sentence starts, collective greetings, header words and products', () => {
  for (const text of [
    'Thanks. The server is down again.',
    'Thanks Microsoft for nothing.',
    'Hi all, Linux 2.4.18 is out. Sure works for me.',
    'Dear Sir, Hello World, Hi There, Hi Everyone!',
    '----- Original Message -----',
    'Best practices for Apache: Keep It Simple.',
    'From: Anonymous <nobody@example.org>',
    '-- Irish Linux Users\' Group: social@example.ie',
    'Regards, The Team',
    'Reply-To: Support <support@example.com>',
    'Monday. Works fine. Perhaps Tomorrow.',
    '[081] - SimpleFirewall',
  ]) {
    assert.deepEqual(names(text), [], text);
  }
  // A role mailbox or a one-part local part names nobody.
  assert.deepEqual(names('Write to razor@example.org about Razor, or info.sales@example.com for Info.'), []);
});

test('recovery credits a reconstruction that holds a cue-found name as a whole word', () => {
  const ref = 'Hi Niall, the patch is at http://www.example.ie/p.diff — Siobhan';
  const r = piiRecovery(ref, 'hi niall the patch is at http://www.example.ie/p.diff thanks');
  assert.deepEqual(r.spans.map((s): [PiiKind, string, boolean] => [s.kind, s.text, s.recovered]), [
    ['name', 'Niall', true],
    ['url', 'http://www.example.ie/p.diff', true],
  ]);
  assert.equal(piiRecovery('Thanks, Siobhan', 'thanks, Siobhan!').rate, 1);
  assert.equal(piiRecovery('Thanks, Siobhan', 'thanks, Siobhany').rate, 0);
});

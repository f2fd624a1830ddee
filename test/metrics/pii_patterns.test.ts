import { test } from 'node:test';
import assert from 'node:assert/strict';
import { piiRecovery } from '../../src/metrics/index.js';
import { piiFound as found } from './helpers.js';

test('URLs: scheme or www., trailing punctuation left out, host needs a dot', () => {
  const mail = 'The fixed RPMs are at http://www.example.ie/~dermot/rpms/ (see\n' +
    '<https://bugs.example.org/show_bug.cgi?id=1234>), mirrored on www.example.net/pub, and\n' +
    'ftp://ftp.example.com/pub/linux/kernel.tar.gz.';
  assert.deepEqual(found(mail), [
    ['url', 'http://www.example.ie/~dermot/rpms/'],
    ['url', 'https://bugs.example.org/show_bug.cgi?id=1234'],
    ['url', 'www.example.net/pub'],
    ['url', 'ftp://ftp.example.com/pub/linux/kernel.tar.gz'],
  ]);
  // A segment cut at "http://www." is no URL; a bare domain or an address is not one either.
  assert.deepEqual(found('see http://www. and example.com or sales@www.example.com'), [['email', 'sales@www.example.com']]);
  // Numbers inside a URL are neither an IP nor a digit run of their own.
  assert.deepEqual(found('Log in at http://192.0.2.7:8080/login?account=99887766 today'), [
    ['url', 'http://192.0.2.7:8080/login?account=99887766'],
  ]);
});

test('IP addresses: IPv4 and IPv6; versions, revisions and times are not', () => {
  const mail = "Received: from mail.example.ie ([192.0.2.45]) by relay; our gateway is 10.0.0.1,\n" +
    'and the v6 box answers on 2001:db8::8a2e:370:7334 and fe80::204:61ff:fe9d:f156.';
  assert.deepEqual(found(mail), [
    ['ip', '192.0.2.45'],
    ['ip', '10.0.0.1'],
    ['ip', '2001:db8::8a2e:370:7334'],
    ['ip', 'fe80::204:61ff:fe9d:f156'],
  ]);
  assert.deepEqual(
    found('Upgrade to kernel 2.4.18, version 1.0.2.3, v10.1.1.1 or revision 1.91.2.2; 1.2.3.4.5 and 300.1.1.1 ' +
      'are not addresses, nor is std::vector or Foo::Bar, nor 16:44:30 or 10:16:33AM.'),
    [],
  );
});

test('dates: numeric and written forms; versions, times, prices and bare months are not', () => {
  const cases: [string, string][] = [
    ['The backup ran on 2002-08-23 overnight.', '2002-08-23'],
    ['Invoice dated 23/08/2002, due in 30 days.', '23/08/2002'],
    ['Shipped 8/23/02 by courier.', '8/23/02'],
    ['Termin am 23.08.2002 bestätigt.', '23.08.2002'],
    ['On Fri, 23 Aug 2002 16:44:30 +0100, you wrote:', 'Fri, 23 Aug 2002'],
    ['Sent: Thursday, August 15, 2002 2:53 PM', 'Thursday, August 15, 2002'],
    ['Born on August 23, 2002 in Cork.', 'August 23, 2002'],
    ['Deadline is the 23rd of August 2002.', '23rd of August 2002'],
    ['Expires 23-Aug-2002 at midnight.', '23-Aug-2002'],
    ['I am out of the office until Tuesday 6th August.', 'Tuesday 6th August'],
    ['Newsletter for Tuesday, July 30th 2002 follows.', 'Tuesday, July 30th 2002'],
  ];
  for (const [text, date] of cases) assert.deepEqual(found(text), [['date', date]], text);
  assert.deepEqual(
    found('Kernel 2.4.18 costs $19.99 or £1,250.00 and 3/4 of users; meet at 16:45 or 10:16:33AM on 7/9. ' +
      'May I ask? March 2 servers. Monday works. 13/13/2002 and 2002-13-45 are no dates.'),
    [],
  );
  // A date is not a phone number, and a compact 20020823 stays a digit run.
  assert.deepEqual(found('Call 555-0142 before 2002-08-23 or 01/02/2003; ref 20020823.'), [
    ['phone', '555-0142'],
    ['date', '2002-08-23'],
    ['date', '01/02/2003'],
    ['digits', '20020823'],
  ]);
});

test('recovery credits a reconstruction holding the URL, IP or date verbatim', () => {
  const ref = 'Patch at http://www.example.ie/~niall/fix.diff for 192.0.2.45, tested Fri, 23 Aug 2002.';
  const r = piiRecovery(ref, 'patch at http://www.example.ie/~niall/fix.diff for 192.0.2.46 tested Fri, 23 Aug 2002');
  assert.deepEqual(r.spans.map((s) => [s.kind, s.recovered]), [['url', true], ['ip', false], ['date', true]]);
  assert.equal(r.rate, 2 / 3);
  assert.equal(piiRecovery(ref, ref).rate, 1);
  assert.equal(piiRecovery('Due 2002-08-23.', 'due 2002-08-24').rate, 0);
});

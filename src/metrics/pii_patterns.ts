// Pattern matchers for the PII kinds that have a fixed shape (everything but names), in the
// priority order extractPii applies them: a later match overlapping an earlier one is dropped.
import { isIPv4, isIPv6 } from 'node:net';

export type PatternKind = 'url' | 'email' | 'ip' | 'date' | 'phone' | 'digits';

export interface PiiPattern {
  kind: PatternKind;
  re: RegExp;
  /** Whether the match (m[0] starting at m.index of text) is the kind; may also trim it. */
  accept?: (m: RegExpMatchArray, text: string) => boolean | string;
}

// http(s)/ftp URLs and bare "www." hosts; trailing sentence punctuation is not part of the URL, and
// the host needs a dot (a segment cut at "http://www." is not a URL).
const URL = /(?<![\w@./-])(?:(?:https?|ftp):\/\/|www\.)[^\s<>"'`{}|\\^[\]]+/g;

function acceptUrl(m: RegExpMatchArray): boolean | string {
  const url = m[0].replace(/[.,;:!?)'"]+$/, '');
  const host = url.replace(/^(?:https?|ftp):\/\//, '').split(/[/?#:]/, 1)[0]!;
  return /^[\w-]+(?:\.[\w-]+)+$/.test(host) ? url : false;
}

const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])/g;

// Dotted quads, not part of a longer dotted number (versions like 2.4.18.1.2) nor after a word
// such as "version"; each octet 0-255 without leading zeros (node's isIPv4).
const IPV4 = /(?<![\w.-])\d{1,3}(?:\.\d{1,3}){3}(?![\w-]|\.\d)/g;
const VERSION_BEFORE = /\b(?:v|version|ver|release|rel|revision|rev|build|patch)\.?\s*$/i;
// IPv6 candidates (full, compressed, or with an IPv4 tail), checked by isIPv6; a time such as
// 16:44:30 fails that check, "std::vector" is no candidate.
const IPV6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\w:])/g;

function acceptIpv6(m: RegExpMatchArray): boolean {
  const s = m[0];
  const groups = s.split(':').filter((g) => g !== '');
  return isIPv6(s) && (s.includes('::') || groups.length >= 7) && groups.length >= 2 && /\d/.test(s);
}

// Dates. Numeric: ISO 2002-08-23 (also / or .), and day-month-year or month-day-year with / - .
// (a dotted one needs a 4-digit year, so version 2.4.18 is no date). Written: "Fri, 23 Aug 2002",
// "23rd of August 2002", "August 23, 2002", "Thursday, August 15, 2002", "23-Aug-2002", and a
// weekday with day and month but no year ("Fri, 23 Aug"). A month name alone ("May I ask",
// "March 2 servers") or a time (16:44:30) is no date.
const ISO_DATE = /(?<![\w./-])((?:1[89]|20)\d\d)([-/.])(\d{1,2})\2(\d{1,2})(?![\w]|[-/.]\d)/g;
const NUMERIC_DATE = /(?<![\w./-])(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?![\w]|[-/.]\d)/g;

function acceptIsoDate(m: RegExpMatchArray): boolean {
  const month = Number(m[3]);
  const day = Number(m[4]);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

function acceptNumericDate(m: RegExpMatchArray): boolean {
  const a = Number(m[1]);
  const b = Number(m[3]);
  const year = m[4]!;
  if (m[2] === '.' && year.length !== 4) return false;
  if (year.length === 4 && (Number(year) < 1800 || Number(year) > 2099)) return false;
  return a >= 1 && b >= 1 && a <= 31 && b <= 31 && Math.min(a, b) <= 12;
}

const MONTH = String.raw`(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)(?![a-z])`;
const MONTH_DOT = String.raw`${MONTH}(?:\.(?=\s))?`;
const WEEKDAY = String.raw`(?:Mon(?:day)?|Tue(?:s(?:day)?)?|Wed(?:nesday)?|Thu(?:r(?:s(?:day)?)?)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)(?![a-z])\.?,?\s+`;
const DAY = String.raw`(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?(?![\da-z])`;
const YEAR = String.raw`(?:1[89]|20)\d\d(?!\d)`;
const WRITTEN_DATE = new RegExp(
  String.raw`(?<![\p{L}\p{N}])(?:` +
    [
      String.raw`(?:${WEEKDAY})?${DAY}(?:\s+of)?\s+${MONTH_DOT},?\s+${YEAR}`,
      String.raw`(?:${WEEKDAY})?${MONTH_DOT}\s+${DAY},?\s+${YEAR}`,
      String.raw`${DAY}-${MONTH}-(?:${YEAR}|\d\d(?!\d))`,
      String.raw`${WEEKDAY}${DAY}(?:\s+of)?\s+${MONTH}`,
      String.raw`${WEEKDAY}${MONTH_DOT}\s+${DAY}`,
    ].join('|') +
    ')',
  'gu',
);

// Phone boundaries: not glued to a word, a '+' or a longer dotted/dashed number.
const PB = String.raw`(?<![\w+]|\d[-.])`;
const PA = String.raw`(?![\w]|[-.]\d)`;

function digitCount(min: number, max: number): (m: RegExpMatchArray) => boolean {
  return (m) => {
    const d = m[0].replace(/\D/g, '').length;
    return d >= min && d <= max;
  };
}

// Letters may touch a digit run ("ACC12345678"); digits, or digits behind a '.', ',' or '-', may not.
const DIGITS = /(?<!\d|\d[.,-])(?:\d{4}(?:[ -]\d{4}){2,3}|\d{3}-\d{2}-\d{4}|\d{5,})(?!\d|[.,-]\d)/g;

export const PATTERNS: readonly PiiPattern[] = [
  { kind: 'url', re: URL, accept: acceptUrl },
  { kind: 'email', re: EMAIL },
  {
    kind: 'ip', re: IPV4,
    accept: (m, text) => isIPv4(m[0]) && !VERSION_BEFORE.test(text.slice(Math.max(0, m.index! - 16), m.index!)),
  },
  { kind: 'ip', re: IPV6, accept: acceptIpv6 },
  { kind: 'date', re: WRITTEN_DATE },
  { kind: 'date', re: ISO_DATE, accept: acceptIsoDate },
  { kind: 'date', re: NUMERIC_DATE, accept: acceptNumericDate },
  // International "+<cc> ..." (8-15 digits); North American "(555) 123-4567", "555-123-4567",
  // "555.123.4567", "1-800-555-0199"; UK national "020 7946 0958", "07700 900123" (10-11 digits
  // starting with 0); US local "555-0142".
  { kind: 'phone', re: new RegExp(PB + String.raw`\+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,4})){1,6}` + PA, 'g'), accept: digitCount(8, 15) },
  { kind: 'phone', re: new RegExp(PB + String.raw`(?:1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}` + PA, 'g'), accept: digitCount(10, 11) },
  { kind: 'phone', re: new RegExp(PB + String.raw`0\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}` + PA, 'g'), accept: digitCount(10, 11) },
  { kind: 'phone', re: new RegExp(PB + String.raw`\d{3}-\d{4}` + PA, 'g'), accept: digitCount(7, 7) },
  { kind: 'digits', re: DIGITS },
];

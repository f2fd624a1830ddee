// PII recovery: which personal-data spans of the victim (reference) text does a reconstruction
// contain verbatim?
//
// Extraction runs the kinds in priority order and a later match that overlaps an earlier span
// is dropped, so a number inside an e-mail address is not also a digit run:
//   1. email   local@domain.tld
//   2. phone   international "+<cc> ..." (8-15 digits); North American "(555) 123-4567",
//              "555-123-4567", "555.123.4567", "1-800-555-0199"; UK national "020 7946 0958",
//              "07700 900123" (10-11 digits starting with 0); US local "555-0142"
//   3. digits  card-style groups "4417 1234 5678 9113", US SSN "123-45-6789", or any run of >= 5
//              consecutive digits (account numbers, IDs); decimals and "2,500,000" are not runs
//   4. name    a Title-case whole word (or "McDonald"/"O'Brien" shape) found in names.ts; adjacent
//              names are separate spans ("Jane Doe" = 2), so partial recovery gets partial credit
// Offsets are UTF-16 code-unit indices into the text, `end` exclusive (text.slice(start, end)).
//
// Recovery: e-mail, phone and digit spans must appear in the hypothesis as a case-sensitive
// substring; names as a case-insensitive whole word. Every occurrence in the reference is its
// own span. A reference without PII has rate null (not 0 and not 1): there was nothing to leak.
// Over a corpus the rate is pooled, recovered spans / total spans (null if total is 0), so texts
// rich in PII weigh more than in a mean of per-text rates.
import { FIRST_NAMES, SURNAMES } from './names.js';

export type PiiKind = 'email' | 'phone' | 'digits' | 'name';

export interface PiiSpan {
  kind: PiiKind;
  text: string;
  start: number;
  end: number;
}

export interface PiiSpanResult extends PiiSpan {
  recovered: boolean;
}

export interface PiiRecovery {
  total: number;
  recovered: number;
  rate: number | null;
  spans: PiiSpanResult[];
}

export interface PiiCorpusRecovery {
  total: number;
  recovered: number;
  rate: number | null;
}

const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])/g;

// Phone boundaries: not glued to a word, a '+' or a longer dotted/dashed number.
const PB = String.raw`(?<![\w+]|\d[-.])`;
const PA = String.raw`(?![\w]|[-.]\d)`;
const PHONES: readonly { re: RegExp; minDigits: number; maxDigits: number }[] = [
  { re: new RegExp(PB + String.raw`\+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,4})){1,6}` + PA, 'g'), minDigits: 8, maxDigits: 15 },
  { re: new RegExp(PB + String.raw`(?:1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}` + PA, 'g'), minDigits: 10, maxDigits: 11 },
  { re: new RegExp(PB + String.raw`0\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}` + PA, 'g'), minDigits: 10, maxDigits: 11 },
  { re: new RegExp(PB + String.raw`\d{3}-\d{4}` + PA, 'g'), minDigits: 7, maxDigits: 7 },
];

// Letters may touch a digit run ("ACC12345678"); digits, or digits behind a '.', ',' or '-', may not.
const DIGITS = /(?<!\d|\d[.,-])(?:\d{4}(?:[ -]\d{4}){2,3}|\d{3}-\d{2}-\d{4}|\d{5,})(?!\d|[.,-]\d)/g;

const NAME_WORD = /(?<![A-Za-z0-9_])(?:O'[A-Z][a-z]+|[A-Z][a-z]+(?:[A-Z][a-z]+)?)(?![A-Za-z0-9_])/g;
const NAMES: ReadonlySet<string> = new Set([...FIRST_NAMES, ...SURNAMES]);

function countDigits(s: string): number {
  let n = 0;
  for (const ch of s) if (ch >= '0' && ch <= '9') n++;
  return n;
}

function overlaps(spans: readonly PiiSpan[], start: number, end: number): boolean {
  return spans.some((s) => start < s.end && s.start < end);
}

function collect(
  text: string,
  re: RegExp,
  kind: PiiKind,
  spans: PiiSpan[],
  accept: (m: string) => boolean = () => true,
): void {
  for (const m of text.matchAll(re)) {
    const start = m.index!;
    const end = start + m[0].length;
    if (accept(m[0]) && !overlaps(spans, start, end)) spans.push({ kind, text: m[0], start, end });
  }
}

/** PII spans of `text`, sorted by start offset. */
export function extractPii(text: string): PiiSpan[] {
  const spans: PiiSpan[] = [];
  collect(text, EMAIL, 'email', spans);
  for (const p of PHONES) {
    collect(text, p.re, 'phone', spans, (m) => {
      const d = countDigits(m);
      return d >= p.minDigits && d <= p.maxDigits;
    });
  }
  collect(text, DIGITS, 'digits', spans);
  collect(text, NAME_WORD, 'name', spans, (m) => NAMES.has(m));
  return spans.sort((a, b) => a.start - b.start);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function isSpanRecovered(span: PiiSpan, hypothesis: string): boolean {
  if (span.kind !== 'name') return hypothesis.includes(span.text);
  return new RegExp(`(?<![A-Za-z0-9_])${escapeRegExp(span.text)}(?![A-Za-z0-9_])`, 'i').test(hypothesis);
}

export function piiRecovery(reference: string, hypothesis: string): PiiRecovery {
  const spans = extractPii(reference).map((s) => ({ ...s, recovered: isSpanRecovered(s, hypothesis) }));
  const recovered = spans.filter((s) => s.recovered).length;
  return { total: spans.length, recovered, rate: spans.length > 0 ? recovered / spans.length : null, spans };
}

/** Pooled recovery over a corpus: recovered spans / total spans, null when there are no spans. */
export function piiRecoveryCorpus(
  references: readonly string[],
  hypotheses: readonly string[],
): PiiCorpusRecovery {
  if (references.length !== hypotheses.length) {
    throw new RangeError(`piiRecoveryCorpus: ${references.length} references for ${hypotheses.length} hypotheses`);
  }
  let total = 0;
  let recovered = 0;
  references.forEach((ref, i) => {
    const r = piiRecovery(ref, hypotheses[i]!);
    total += r.total;
    recovered += r.recovered;
  });
  return { total, recovered, rate: total > 0 ? recovered / total : null };
}

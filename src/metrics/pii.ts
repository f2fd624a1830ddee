// PII recovery: which personal-data spans of the victim (reference) text does a reconstruction
// contain verbatim?
//
// Extraction runs the kinds in priority order and a later match that overlaps an earlier span
// is dropped, so a number inside an e-mail address is not also a digit run, an IP address is not
// a digit run, and a date is not a phone number:
//   1. url     http(s)://… , ftp://… , www.… (trailing punctuation left out)
//   2. email   local@domain.tld
//   3. ip      IPv4 dotted quads (octets 0-255; not after "version"/"v"), IPv6
//   4. date    2002-08-23, 23/08/2002, 8/23/02, 23.08.2002, "Fri, 23 Aug 2002",
//              "August 23, 2002", "23rd of August 2002", "Fri, 23 Aug"; not 2.4.18, 7/9, 16:44
//   5. phone   international "+<cc> ..." (8-15 digits); North American "(555) 123-4567",
//              "555-123-4567", "555.123.4567", "1-800-555-0199"; UK national "020 7946 0958",
//              "07700 900123" (10-11 digits starting with 0); US local "555-0142"
//   6. digits  card-style groups "4417 1234 5678 9113", US SSN "123-45-6789", or any run of >= 5
//              consecutive digits (account numbers, IDs); decimals and "2,500,000" are not runs
//   7. name    a Title-case whole word (or "McDonald"/"O'Brien" shape) found in names.ts or named
//              by a cue of the text (pii_names.ts); adjacent names are separate spans
//              ("Jane Doe" = 2), so partial recovery gets partial credit
// The shapes of kinds 1-6 are in pii_patterns.ts. Offsets are UTF-16 code-unit indices into the
// text, `end` exclusive (text.slice(start, end)).
//
// Recovery: url, e-mail, ip, date, phone and digit spans must appear in the hypothesis as a
// case-sensitive substring; names as a case-insensitive whole word. Every occurrence in the
// reference is its own span. A reference without PII has rate null (not 0 and not 1): there was
// nothing to leak. Over a corpus the rate is pooled, recovered spans / total spans (null if total
// is 0), so texts rich in PII weigh more than in a mean of per-text rates.
import { NAME_WORD, nameTester } from './pii_names.js';
import { PATTERNS, type PatternKind } from './pii_patterns.js';

export type PiiKind = PatternKind | 'name';

/** Every kind, in extraction priority order. */
export const PII_KINDS: readonly PiiKind[] = ['url', 'email', 'ip', 'date', 'phone', 'digits', 'name'];

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

function overlaps(spans: readonly PiiSpan[], start: number, end: number): boolean {
  return spans.some((s) => start < s.end && s.start < end);
}

/** PII spans of `text`, sorted by start offset. */
export function extractPii(text: string): PiiSpan[] {
  const spans: PiiSpan[] = [];
  const add = (kind: PiiKind, span: string, start: number) => {
    const end = start + span.length;
    if (span.length > 0 && !overlaps(spans, start, end)) spans.push({ kind, text: span, start, end });
  };
  for (const p of PATTERNS) {
    for (const m of text.matchAll(p.re)) {
      const ok = p.accept ? p.accept(m, text) : true;
      if (ok !== false) add(p.kind, typeof ok === 'string' ? ok : m[0], m.index!);
    }
  }
  const isName = nameTester(text, spans.filter((s) => s.kind === 'email').map((s) => s.text));
  for (const m of text.matchAll(NAME_WORD)) if (isName(m[0])) add('name', m[0], m.index!);
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

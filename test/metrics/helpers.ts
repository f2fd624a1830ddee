import assert from 'node:assert/strict';
import { extractPii, type PiiKind } from '../../src/metrics/index.js';
import { projectRoot } from '../helpers/shared.js';

export { projectRoot };

export function assertClose(actual: number, expected: number, tol = 1e-6, message = ''): void {
  assert.ok(
    Number.isFinite(actual) && Math.abs(actual - expected) <= tol,
    `${message} expected ${expected} ± ${tol}, got ${actual}`,
  );
}

/** [kind, text] of the PII spans of `text`, after checking offsets, order and disjointness. */
export function piiFound(text: string): [PiiKind, string][] {
  const spans = extractPii(text);
  for (const s of spans) assert.equal(text.slice(s.start, s.end), s.text, 'offsets must slice the span text');
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i - 1]!.end <= spans[i]!.start, 'spans sorted, disjoint');
  return spans.map((s) => [s.kind, s.text]);
}

// Which windows the report shows: the scores come from the seeded uniform sample, but a reader learns
// most from the windows that hold personal data and from the longest ones (a sentence of someone's
// e-mail, not "ie"). Ties are broken by a seeded shuffle, so the choice is repeatable.
import { extractPii } from '../metrics/index.js';

export interface ChosenWindow {
  /** Index into the scored windows. */
  index: number;
  chosen: 'pii' | 'longest';
}

function shuffled(n: number, seed: number): number[] {
  let s = (seed * 2654435761 + 1) >>> 0;
  const next = () => ((s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0) / 2 ** 32);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * Up to `n` windows: up to ⌈n/2⌉ holding PII (most spans first), then the longest of the rest, in
 * characters.
 */
export function chooseExamples(references: readonly string[], n: number, seed: number): ChosenWindow[] {
  const tie = shuffled(references.length, seed);
  const rank = new Map(tie.map((w, i) => [w, i]));
  const info = references.map((text, index) => ({ index, pii: extractPii(text).length, length: text.trim().length }));
  const byPii = info.filter((w) => w.pii > 0).sort((a, b) => b.pii - a.pii || b.length - a.length || rank.get(a.index)! - rank.get(b.index)!);
  const out: ChosenWindow[] = byPii.slice(0, Math.ceil(n / 2)).map((w) => ({ index: w.index, chosen: 'pii' }));
  const taken = new Set(out.map((w) => w.index));
  const longest = info.filter((w) => !taken.has(w.index)).sort((a, b) => b.length - a.length || rank.get(a.index)! - rank.get(b.index)!);
  for (const w of longest) {
    if (out.length >= n) break;
    out.push({ index: w.index, chosen: 'longest' });
  }
  return out;
}

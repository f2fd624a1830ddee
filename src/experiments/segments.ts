// The victim side of an experiment: the victim's texts cut into capture-sized segments (what one
// device message holds), and a seeded uniform sample of them across the whole victim set, so scores
// never come from the head of a file.
import type { TextTokenizer } from '../models/types.js';
import { seededShuffle } from '../util/prng.js';

/**
 * Cuts victim texts into capture-sized segments (sentences packed up to maxTokens tokens, BOS
 * included) so that every reference the evaluator scores is exactly what the device sent.
 * Returned strings are the decoded token windows.
 */
export function victimSegments(texts: readonly string[], tokenizer: TextTokenizer, o: { maxTokens: number; addBos: boolean }): string[] {
  const budget = o.maxTokens - (o.addBos ? 1 : 0);
  const plain = { addBos: false, addEos: false };
  const out: string[] = [];
  for (const text of texts) {
    const sentences = text.replace(/\s+/g, ' ').trim().match(/[^.!?]+[.!?]+["”’']?\s*|[^.!?]+$/g) ?? [];
    let cur = '';
    const flush = () => {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    };
    for (const s of sentences) {
      const cand = cur + s;
      if (tokenizer.encode(cand.trim(), plain).length <= budget) {
        cur = cand;
        continue;
      }
      flush();
      const ids = tokenizer.encode(s.trim(), plain);
      if (ids.length <= budget) cur = s;
      else for (let i = 0; i < ids.length; i += budget) out.push(tokenizer.decode(ids.slice(i, i + budget), { skipSpecialTokens: true }).trim());
    }
    flush();
  }
  // Drop segments without a letter or digit (a stray quote or dot: nothing to score), and keep
  // only segments that re-encode within budget (decode/encode may not round-trip exactly).
  return out.filter((s) => /[\p{L}\p{N}]/u.test(s)).map((s) => {
    const ids = tokenizer.encode(s, plain);
    return ids.length <= budget ? s : tokenizer.decode(ids.slice(0, budget), { skipSpecialTokens: true }).trim();
  });
}

/** How the scored segments were chosen: every result carries it. */
export interface SegmentSampling {
  /** Segments scored. */
  segments: number;
  /** Segments the victim set was cut into. */
  of: number;
  method: 'seeded uniform sample';
  seed: number;
  maxTokens: number;
}

/** A seeded uniform sample of `count` segments across the whole victim set (all of them when fewer). */
export function sampleSegments(texts: readonly string[], tokenizer: TextTokenizer, o: { count: number; maxTokens: number; addBos: boolean; seed: number }): { segments: string[]; sampling: SegmentSampling } {
  const all = victimSegments(texts, tokenizer, o);
  const segments = seededShuffle(all, o.seed).slice(0, o.count);
  return { segments, sampling: { segments: segments.length, of: all.length, method: 'seeded uniform sample', seed: o.seed, maxTokens: o.maxTokens } };
}

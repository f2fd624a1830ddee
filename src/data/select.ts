// The sample-selection options shared by every source, applied in a fixed order:
// trim -> drop empty -> minChars -> maxChars (truncate) -> dedupe -> shuffle -> offset -> limit.
// Shuffling before offset/limit makes `shuffleSeed` + `limit` a reproducible random subset,
// and equal seeds with non-overlapping offset windows give disjoint subsets.

import { InputError } from './errors.js';
import { seededShuffle } from '../util/prng.js';

export interface SelectOptions {
  trim: boolean;
  minChars: number;
  maxChars?: number | undefined;
  dedupe: boolean;
  shuffleSeed?: number | undefined;
  offset: number;
  limit?: number | undefined;
}

/** Cuts to at most `max` UTF-16 units without splitting a surrogate pair. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** Applies the options; throws InputError when nothing is left, naming the step to blame. */
export function selectSamples(samples: readonly string[], o: SelectOptions, where: string, hint: string): string[] {
  let out = samples.map((s) => (o.trim ? s.trim() : s)).filter((s) => s.trim() !== '');
  if (out.length === 0) throw new InputError(`no samples found in ${where}`, hint);
  const found = out.length;
  out = out.filter((s) => s.length >= o.minChars);
  if (out.length === 0) {
    throw new InputError(`no samples left from ${where}: all ${found} are shorter than minChars=${o.minChars}`, 'lower --min-chars');
  }
  if (o.maxChars !== undefined) {
    const max = o.maxChars;
    out = out.map((s) => (o.trim ? truncate(s, max).trimEnd() : truncate(s, max)));
  }
  if (o.dedupe) out = [...new Set(out)];
  if (o.shuffleSeed !== undefined) out = seededShuffle(out, o.shuffleSeed);
  if (o.offset >= out.length) {
    throw new InputError(
      `no samples left from ${where}: offset=${o.offset} is past the ${out.length} available samples`,
      `use an offset below ${out.length}`,
    );
  }
  return out.slice(o.offset, o.limit === undefined ? undefined : o.offset + o.limit);
}

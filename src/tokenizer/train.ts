// Byte-level BPE training (GPT-2 style). Written here because @huggingface/tokenizers (JS) only
// loads, encodes and decodes: it has no trainer. The algorithm follows the Rust `tokenizers`
// BpeTrainer: count pre-tokenised words once, then repeatedly merge the most frequent adjacent
// pair, updating pair counts incrementally (only the words that contain the merged pair are
// touched) and picking the next pair from a lazily re-validated max-heap.
import { BYTE_ALPHABET, BYTE_TO_CHAR, preTokenize, utf8 } from './bytes.js';
import { PairHeap } from './heap.js';

export interface SpecialTokens {
  /** Beginning-of-sequence token (default `<|endoftext|>`, as GPT-2). */
  bos?: string | null;
  /** End-of-sequence / document separator (default `<|endoftext|>`). */
  eos?: string | null;
  /** Padding token (default none; e.g. `<pad>`). */
  pad?: string | null;
  /** Further special tokens, given ids after bos/eos/pad. */
  additional?: string[];
}

export interface TrainBPEOptions {
  /** Final vocabulary size, special tokens and the 256 byte tokens included. */
  vocabSize: number;
  /** Pairs seen fewer times than this are never merged (default 2). */
  minFrequency?: number;
  specialTokens?: SpecialTokens;
  /** Called every 100 merges and at the end. */
  onProgress?: (p: { merges: number; vocabSize: number; targetVocabSize: number }) => void;
}

/** A trained byte-level BPE model: tokens are strings in GPT-2's byte-level alphabet. */
export interface BPEModel {
  /** Token of each id: special tokens first, then the 256 byte characters, then merged tokens. */
  vocab: string[];
  /** Merges in priority (rank) order; each joined pair is a token of `vocab`. */
  merges: [string, string][];
  /** The special tokens (ids 0..n-1), in id order. */
  specialTokens: string[];
  bosToken: string | null;
  eosToken: string | null;
  padToken: string | null;
}

export const DEFAULT_SPECIAL_TOKENS: SpecialTokens = { bos: '<|endoftext|>', eos: '<|endoftext|>' };

/** Pair keys pack two ids into one number; ids must stay below this. */
const KEY_BASE = 2 ** 21;

function specialList(s: SpecialTokens): string[] {
  const out: string[] = [];
  for (const t of [s.bos, s.eos, s.pad, ...(s.additional ?? [])]) {
    if (t === undefined || t === null) continue;
    if (t.length === 0) throw new RangeError('special tokens must be non-empty strings');
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Counts GPT-2 pre-tokens over all texts, with special tokens cut out first (as the tokenizer does at encode time). */
export function countWords(texts: Iterable<string>, specials: string[] = []): Map<string, number> {
  const counts = new Map<string, number>();
  // Longest first, so a special that contains another wins (the encoder's splitter does the same).
  const cut = specials.length ? new RegExp([...specials].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g') : null;
  for (const text of texts) {
    for (const section of cut ? text.split(cut) : [text]) {
      for (const w of preTokenize(section)) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  return counts;
}

export function trainBPE(texts: Iterable<string>, o: TrainBPEOptions): BPEModel {
  const st = o.specialTokens ?? DEFAULT_SPECIAL_TOKENS;
  const specials = specialList(st);
  const minFrequency = o.minFrequency ?? 2;
  const base = specials.length + 256;
  if (!Number.isInteger(o.vocabSize) || o.vocabSize < base) {
    throw new RangeError(`vocabSize must be an integer >= ${base} (256 bytes + ${specials.length} special tokens), got ${o.vocabSize}`);
  }
  if (o.vocabSize > KEY_BASE) throw new RangeError(`vocabSize must be <= ${KEY_BASE}, got ${o.vocabSize}`);
  if (!(minFrequency >= 1)) throw new RangeError(`minFrequency must be >= 1, got ${minFrequency}`);

  const vocab: string[] = [...specials, ...BYTE_ALPHABET];
  const tokenId = new Map<string, number>(vocab.map((t, i) => [t, i]));
  const specialSet = new Set(specials);
  const byteId = BYTE_TO_CHAR.map((c) => tokenId.get(c)!);

  // Unique words as symbol-id arrays, with their frequencies (in first-seen order: deterministic).
  const wordCounts = countWords(texts, specials);
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [w, c] of wordCounts) {
    words.push(Array.from(utf8(w), (b) => byteId[b]!));
    freq.push(c);
  }
  wordCounts.clear();

  const pairCount = new Map<number, number>();
  /** Words that contained each pair when it was created (may hold stale entries and duplicates). */
  const where = new Map<number, number[]>();
  const addWhere = (key: number, wi: number) => {
    const list = where.get(key);
    if (list) {
      if (list[list.length - 1] !== wi) list.push(wi);
    } else where.set(key, [wi]);
  };
  const bump = (key: number, delta: number) => {
    const c = (pairCount.get(key) ?? 0) + delta;
    if (c === 0) pairCount.delete(key);
    else pairCount.set(key, c);
  };
  for (let wi = 0; wi < words.length; wi++) {
    const w = words[wi]!;
    for (let i = 0; i + 1 < w.length; i++) {
      const key = w[i]! * KEY_BASE + w[i + 1]!;
      bump(key, freq[wi]!);
      addWhere(key, wi);
    }
  }
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const merges: [string, string][] = [];
  const seen = new Int32Array(words.length).fill(-1);
  const report = () => o.onProgress?.({ merges: merges.length, vocabSize: vocab.length, targetVocabSize: o.vocabSize });
  while (vocab.length < o.vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const current = pairCount.get(top.key) ?? 0;
    if (current !== top.count) {
      if (current > 0) heap.push(current, top.key);
      continue;
    }
    if (current < minFrequency) break;
    const a = Math.floor(top.key / KEY_BASE);
    const b = top.key % KEY_BASE;
    const merged = vocab[a]! + vocab[b]!;
    // A merge may never spell a special token: encoding would then be ambiguous.
    if (specialSet.has(merged)) continue;
    let x = tokenId.get(merged);
    if (x === undefined) {
      x = vocab.length;
      vocab.push(merged);
      tokenId.set(merged, x);
    }
    const mergeIndex = merges.length;
    merges.push([vocab[a]!, vocab[b]!]);

    const touched = new Set<number>();
    for (const wi of where.get(top.key) ?? []) {
      if (seen[wi] === mergeIndex) continue;
      seen[wi] = mergeIndex;
      const w = words[wi]!;
      let hit = false;
      for (let i = 0; i + 1 < w.length; i++) {
        if (w[i] === a && w[i + 1] === b) {
          hit = true;
          break;
        }
      }
      if (!hit) continue;
      const f = freq[wi]!;
      for (let i = 0; i + 1 < w.length; i++) bump(w[i]! * KEY_BASE + w[i + 1]!, -f);
      const out: number[] = [];
      for (let i = 0; i < w.length; ) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          out.push(x);
          i += 2;
        } else out.push(w[i++]!);
      }
      words[wi] = out;
      for (let i = 0; i + 1 < out.length; i++) {
        const key = out[i]! * KEY_BASE + out[i + 1]!;
        bump(key, f);
        // Only pairs with the new symbol are new; every other pair of this word was already indexed.
        if (out[i] === x || out[i + 1] === x) {
          addWhere(key, wi);
          touched.add(key);
        }
      }
    }
    where.delete(top.key);
    for (const key of touched) {
      const c = pairCount.get(key);
      if (c) heap.push(c, key);
    }
    if (merges.length % 100 === 0) report();
  }
  report();
  return {
    vocab,
    merges,
    specialTokens: specials,
    bosToken: st.bos ?? null,
    eosToken: st.eos ?? null,
    padToken: st.pad ?? null,
  };
}

// A fast encoder for byte-level BPE tokenizer.json files (the kind trainBPE writes), for
// tokenising whole corpora: @huggingface/tokenizers gives the same ids, but its 10k-entry word
// cache thrashes on large, varied text (several seconds per MB here). This one caches every word.
import { BYTE_TO_CHAR, preTokenize, utf8 } from './bytes.js';
import { PairHeap } from './heap.js';

interface TokenizerJsonLike {
  added_tokens?: { id: number; content: string }[];
  pre_tokenizer?: { type?: string; add_prefix_space?: boolean; use_regex?: boolean } | null;
  normalizer?: unknown;
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[]; byte_fallback?: boolean; ignore_merges?: boolean; continuing_subword_prefix?: string | null; end_of_word_suffix?: string | null };
}

const KEY_BASE = 2 ** 21;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Why a tokenizer.json cannot use BPEEncoder (null when it can). */
export function fastEncoderUnsupported(json: unknown): string | null {
  const j = json as TokenizerJsonLike;
  const pt = j.pre_tokenizer;
  if (!pt || pt.type !== 'ByteLevel' || pt.add_prefix_space || pt.use_regex === false) return 'pre-tokenizer is not ByteLevel(add_prefix_space=false, use_regex=true)';
  if (j.normalizer) return 'has a normalizer';
  const m = j.model;
  if (!m || m.type !== 'BPE' || !m.vocab || !Array.isArray(m.merges)) return 'model is not BPE';
  if (m.byte_fallback || m.ignore_merges || m.continuing_subword_prefix || m.end_of_word_suffix) return 'BPE options other than the byte-level defaults';
  if (Object.keys(m.vocab).length >= KEY_BASE) return 'vocabulary too large';
  return null;
}

export class BPEEncoder {
  private readonly rank = new Map<number, number>();
  private readonly result = new Map<number, number>();
  private readonly byteId: number[];
  private readonly specials: Map<string, number>;
  private readonly cut: RegExp | null;
  private cache = new Map<string, readonly number[]>();

  constructor(json: unknown, private readonly maxCache = 1_000_000) {
    const why = fastEncoderUnsupported(json);
    if (why) throw new Error(`BPEEncoder: unsupported tokenizer.json (${why})`);
    const m = (json as TokenizerJsonLike).model!;
    const vocab = new Map(Object.entries(m.vocab!));
    const idOf = (t: string) => {
      const id = vocab.get(t);
      if (id === undefined) throw new Error(`BPEEncoder: merge uses ${JSON.stringify(t)}, which is not in the vocabulary`);
      return id;
    };
    this.byteId = BYTE_TO_CHAR.map((c) => idOf(c));
    m.merges!.forEach((mg, r) => {
      const [a, b] = typeof mg === 'string' ? (mg.split(' ', 2) as [string, string]) : mg;
      const key = idOf(a) * KEY_BASE + idOf(b);
      if (!this.rank.has(key)) {
        this.rank.set(key, r);
        this.result.set(key, idOf(a + b));
      }
    });
    this.specials = new Map(((json as TokenizerJsonLike).added_tokens ?? []).map((t) => [t.content, t.id]));
    const list = [...this.specials.keys()].sort((a, b) => b.length - a.length);
    this.cut = list.length ? new RegExp(`(${list.map(escapeRegExp).join('|')})`) : null;
  }

  /** Token ids of a text (added tokens matched whole; no bos/eos added). */
  encode(text: string): number[] {
    const out: number[] = [];
    const parts = this.cut ? text.split(this.cut) : [text];
    for (let i = 0; i < parts.length; i++) {
      // split() with a capture group alternates text, special, text, ...
      if (i % 2 === 1) out.push(this.specials.get(parts[i]!)!);
      else for (const w of preTokenize(parts[i]!)) for (const id of this.word(w)) out.push(id);
    }
    return out;
  }

  private word(w: string): readonly number[] {
    const hit = this.cache.get(w);
    if (hit) return hit;
    const ids = this.bpe(Array.from(utf8(w), (b) => this.byteId[b]!));
    if (this.cache.size >= this.maxCache) this.cache = new Map();
    this.cache.set(w, ids);
    return ids;
  }

  /**
   * Applies the lowest-ranked merge (leftmost on ties) until none applies, as the tokenizers
   * library does: a linked list of symbols and a heap of candidate merges, O(n log n) per word.
   */
  private bpe(sym: number[]): number[] {
    const n = sym.length;
    if (n < 2) return sym;
    const next = Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const prev = Array.from({ length: n }, (_, i) => i - 1);
    const alive = new Uint8Array(n).fill(1);
    // PairHeap pops the highest count first, ties to the lowest key: count = -rank, key = position.
    const heap = new PairHeap();
    const offer = (i: number) => {
      const j = next[i]!;
      if (j < 0) return;
      const r = this.rank.get(sym[i]! * KEY_BASE + sym[j]!);
      if (r !== undefined) heap.push(-r, i);
    };
    for (let i = 0; i + 1 < n; i++) offer(i);
    for (let top = heap.pop(); top; top = heap.pop()) {
      const i = top.key;
      const j = next[i]!;
      if (!alive[i] || j < 0) continue;
      const key = sym[i]! * KEY_BASE + sym[j]!;
      if (this.rank.get(key) !== -top.count) continue; // stale: this position changed since
      sym[i] = this.result.get(key)!;
      alive[j] = 0;
      next[i] = next[j]!;
      if (next[j]! >= 0) prev[next[j]!] = i;
      if (prev[i]! >= 0) offer(prev[i]!);
      offer(i);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(sym[i]!);
    return out;
  }
}

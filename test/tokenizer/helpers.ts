import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../../src/util/prng.js';
import { countWords, type BPEModel, type SpecialTokens, BYTE_ALPHABET } from '../../src/tokenizer/index.js';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
/** A fresh temporary directory, removed when the test process exits. */
export function tmp(prefix = 'revertlm-tok-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

const COMMON = ['the', 'privacy', 'model', 'split', 'learning', 'of', 'and', 'a', 'to', 'server', 'device', 'leakage'];
const RARE = ['zephyr', 'quixotic', 'jubilant', 'mnemonic', 'sphinx', 'glyph', 'rhythm', 'kayak', 'fjord', 'vex'];
const OTHER = ['café', 'naïve', 'Zürich', 'São', 'Ελλάδα', 'Москва', '東京', '数据', '😀', '👩‍💻', 'ǅ'];

/** A deterministic synthetic corpus: Zipf-ish common words, rarer words, numbers, e-mails, accented/CJK/emoji text. */
export function syntheticCorpus(seed: number, docs = 200): string[] {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const out: string[] = [];
  for (let d = 0; d < docs; d++) {
    const words: string[] = [];
    const n = 20 + Math.floor(rand() * 40);
    for (let i = 0; i < n; i++) {
      const r = rand();
      if (r < 0.7) words.push(COMMON[Math.floor(COMMON.length * rand() * rand())]!);
      else if (r < 0.8) words.push(pick(RARE));
      else if (r < 0.87) words.push(String(Math.floor(rand() * 10000)));
      else if (r < 0.92) words.push(`${pick(RARE)}.${pick(COMMON)}@example.org`);
      else if (r < 0.97) words.push(pick(OTHER));
      else words.push(pick([',', '.', "'s", '!', '?', '(x)', '--']));
    }
    out.push(`${words.join(' ')}.\n`);
  }
  return out;
}

/**
 * Textbook BPE for cross-checking the incremental trainer: recount every pair before every merge.
 * Same rules: highest count first, ties to the lowest (left id, right id); a merged string that
 * already exists reuses its id; merges stop at vocabSize or when the best count < minFrequency.
 */
export function naiveBPE(texts: string[], vocabSize: number, minFrequency: number, specials: SpecialTokens): Pick<BPEModel, 'vocab' | 'merges'> {
  const sp = [...new Set([specials.bos, specials.eos, specials.pad, ...(specials.additional ?? [])].filter((t): t is string => !!t))];
  const vocab = [...sp, ...BYTE_ALPHABET];
  const id = new Map(vocab.map((t, i) => [t, i]));
  const enc = new TextEncoder();
  const words: { syms: number[]; n: number }[] = [];
  for (const [w, n] of countWords(texts, sp)) {
    words.push({ syms: Array.from(enc.encode(w), (b) => id.get(byteLevelChar(b))!), n });
  }
  const merges: [string, string][] = [];
  while (vocab.length < vocabSize) {
    const counts = new Map<string, { a: number; b: number; c: number }>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.syms.length; i++) {
        const k = `${w.syms[i]},${w.syms[i + 1]}`;
        const e = counts.get(k) ?? { a: w.syms[i]!, b: w.syms[i + 1]!, c: 0 };
        e.c += w.n;
        counts.set(k, e);
      }
    }
    let best: { a: number; b: number; c: number } | null = null;
    for (const e of counts.values()) {
      if (sp.includes(vocab[e.a]! + vocab[e.b]!)) continue;
      if (!best || e.c > best.c || (e.c === best.c && (e.a < best.a || (e.a === best.a && e.b < best.b)))) best = e;
    }
    if (!best || best.c < minFrequency) break;
    const s = vocab[best.a]! + vocab[best.b]!;
    let x = id.get(s);
    if (x === undefined) {
      x = vocab.length;
      vocab.push(s);
      id.set(s, x);
    }
    merges.push([vocab[best.a]!, vocab[best.b]!]);
    for (const w of words) {
      const out: number[] = [];
      for (let i = 0; i < w.syms.length; ) {
        if (i + 1 < w.syms.length && w.syms[i] === best.a && w.syms[i + 1] === best.b) {
          out.push(x);
          i += 2;
        } else out.push(w.syms[i++]!);
      }
      w.syms = out;
    }
  }
  return { vocab, merges };
}

/** GPT-2's byte → character map, written out independently of src/tokenizer/bytes.ts. */
function byteLevelChar(b: number): string {
  const keep: number[] = [];
  for (let c = 0x21; c <= 0x7e; c++) keep.push(c);
  for (let c = 0xa1; c <= 0xac; c++) keep.push(c);
  for (let c = 0xae; c <= 0xff; c++) keep.push(c);
  if (keep.includes(b)) return String.fromCharCode(b);
  let n = 0;
  for (let c = 0; c < b; c++) if (!keep.includes(c)) n++;
  return String.fromCharCode(256 + n);
}

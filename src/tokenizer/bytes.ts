// GPT-2's byte-level alphabet and pre-tokenisation, as in openai/gpt-2 encoder.py and the
// Hugging Face `ByteLevel` pre-tokenizer (use_regex: true).

/** GPT-2's pre-tokenisation pattern (contractions, letters, digits, other, whitespace). */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Splits text into GPT-2 pre-tokens (words with their leading space). */
export function preTokenize(text: string): string[] {
  return text.match(GPT2_PATTERN) ?? [];
}

/**
 * GPT-2's reversible byte → printable character map: printable Latin-1 bytes map to themselves,
 * the other 68 bytes to U+0100.. in byte order (so a space becomes 'Ġ', a newline 'Ċ').
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  return out;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** The 256 byte characters in GPT-2's vocabulary order (ascending code point). */
export const BYTE_ALPHABET: readonly string[] = [...BYTE_TO_CHAR].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A string's UTF-8 bytes written in the byte-level alphabet (what BPE tokens are made of). */
export function toByteLevel(text: string): string {
  let s = '';
  for (const b of encoder.encode(text)) s += BYTE_TO_CHAR[b];
  return s;
}

/** Inverse of toByteLevel for a complete token sequence (invalid UTF-8 becomes U+FFFD). */
export function fromByteLevel(chars: string): string {
  const bytes = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; i++) {
    const b = CHAR_TO_BYTE.get(chars[i]!);
    if (b === undefined) throw new Error(`character U+${chars.charCodeAt(i).toString(16).padStart(4, '0')} is not in the byte-level alphabet`);
    bytes[i] = b;
  }
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
}

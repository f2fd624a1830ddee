// Text files are UTF-8 text: a NUL byte (a binary file) or a byte sequence that is not UTF-8 (Latin-1,
// random bytes) is refused with the offset of the first bad byte, instead of being read as U+FFFD
// characters and scored as if it were text.
import { InputError } from './errors.js';

const strict = new TextDecoder('utf-8', { fatal: true });

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) { i++; continue; }
    // Lead byte: sequence length and the valid range of the second byte (no overlongs, no surrogates).
    const [n, lo, hi] = c >= 0xc2 && c <= 0xdf ? [2, 0x80, 0xbf] : c === 0xe0 ? [3, 0xa0, 0xbf] : c === 0xed ? [3, 0x80, 0x9f]
      : c >= 0xe1 && c <= 0xef ? [3, 0x80, 0xbf] : c === 0xf0 ? [4, 0x90, 0xbf] : c >= 0xf1 && c <= 0xf3 ? [4, 0x80, 0xbf] : c === 0xf4 ? [4, 0x80, 0x8f] : [0, 0, 0];
    if (n === 0 || i + n > b.length) return i;
    if (b[i + 1]! < lo || b[i + 1]! > hi) return i;
    for (let j = 2; j < n; j++) if ((b[i + j]! & 0xc0) !== 0x80) return i;
    i += n;
  }
  return -1;
}

/** The UTF-8 text of a file's bytes (without a leading BOM); InputError if it is not text. */
export function decodeText(bytes: Uint8Array, source: string): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new InputError(`${source} is not a text file (NUL byte at offset ${nul})`, 'pass a UTF-8 text file; binary files cannot be read as text');
  try {
    return strict.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const byte = at >= 0 ? ` (byte 0x${bytes[at]!.toString(16).padStart(2, '0')} at offset ${at})` : '';
    throw new InputError(`${source} is not UTF-8 text${byte}`, 'convert it to UTF-8 (e.g. `iconv -f latin1 -t utf-8`); random or binary bytes are not text');
  }
}

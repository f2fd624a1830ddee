// What a tokenizer can emit. It encodes text, so the bytes of its tokens decode as valid UTF-8: a
// multi-byte character's lead byte is followed by exactly its continuation bytes, and nothing
// else. Byte-fallback pieces (`<0xE2>`) and byte-level BPE fragments can break that when an attack
// picks tokens one position at a time, and under drift a lone byte fragment can re-encode closer to
// the observed states than the right token (a document separator, say, that the device's private
// adapters moved). The grammar rules out what no tokenizer emits. The runtime cuts one token stream
// into windows, so a window may begin and end mid-character: continuation bytes before any other
// byte, and an unfinished character at the window's end, are allowed. Some ids it never emits at all
// (stories260K: the byte-fallback pieces of the ASCII characters it has pieces for, and `<unk>`: 89
// of the 252 tokens whose input embedding lies within cosine 0.99 of EOS's, so they re-encode like it).
import type { TextTokenizer } from '../../models/types.js';

/** Continuation bytes still owed after a prefix; START: none, and the window may have begun mid-character. */
const START = -1;
const INVALID = -2;

/** The state after one token's bytes (null: a special token, which ends any character). */
function step(state: number, bytes: Uint8Array | null | undefined): number {
  if (!bytes) return state > 0 ? INVALID : 0;
  let s = state;
  for (const x of bytes) {
    if (x >= 0x80 && x < 0xc0) {
      if (s > 0) s--;
      else if (s !== START) return INVALID;
      continue;
    }
    if (s > 0) return INVALID;
    if (x < 0x80) s = 0;
    else if (x >= 0xc2 && x <= 0xdf) s = 1;
    else if (x >= 0xe0 && x <= 0xef) s = 2;
    else if (x >= 0xf0 && x <= 0xf4) s = 3;
    else return INVALID;
  }
  return s;
}

/** Whether a token's bytes begin with a UTF-8 continuation byte. */
function startsWithContinuation(bytes: Uint8Array | null | undefined): boolean {
  return !!bytes && bytes.length > 0 && bytes[0]! >= 0x80 && bytes[0]! < 0xc0;
}

export class TokenGrammar {
  private constructor(private readonly bytes: readonly (Uint8Array | null)[], private readonly never: ReadonlySet<number>) {}

  /** A tokenizer's grammar; null when it cannot tell its tokens' bytes, or none splits a character and it emits every id. */
  static of(tokenizer: Pick<TextTokenizer, 'tokenBytes' | 'unreachableTokens'>): TokenGrammar | null {
    const bytes = tokenizer.tokenBytes?.();
    if (!bytes) return null;
    const never = tokenizer.unreachableTokens?.() ?? new Set<number>();
    return never.size > 0 || bytes.some((b) => b !== null && step(0, b) !== 0) ? new TokenGrammar(bytes, never) : null;
  }

  /** The state before a window's first token. */
  readonly start = START;

  /** The state after `tok` follows a prefix in `state`. A broken prefix restarts leniently: the check judges each position on its own. */
  after(state: number, tok: number): number {
    const s = step(state, this.bytes[tok]);
    return s === INVALID ? START : s;
  }

  /**
   * Whether `tok` can follow a prefix in state `state`: an id the tokenizer emits, whole within
   * itself, and starting with continuation bytes only where the prefix left a character open. A
   * character the prefix left unfinished does not rule out a token that starts a new one: the fault
   * may lie with the earlier lead byte, and a left-to-right search that insisted on finishing it would
   * lock in a wrong lead byte, and, checking the next token too, lock out a right one (mail-llama,
   * SMS text: "£", C2 A3, lost while the token after the C2 was still wrong).
   */
  fits(state: number, tok: number): boolean {
    if (this.never.has(tok)) return false;
    return step(state > 0 && !startsWithContinuation(this.bytes[tok]) ? 0 : state, this.bytes[tok]) !== INVALID;
  }

  /** Whether a whole window (its first `len` tokens) is one a tokenizer could have emitted. */
  valid(row: readonly number[], len = row.length): boolean {
    let s = START;
    for (let i = 0; i < len; i++) {
      s = this.never.has(row[i]!) ? INVALID : step(s, this.bytes[row[i]!]);
      if (s === INVALID) return false;
    }
    return true;
  }
}

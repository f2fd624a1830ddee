// The bytes each token id stands for, read from a Hugging Face tokenizer.json: what lets an attack
// tell whether a token sequence is one a real tokenizer could have produced (see
// src/attacks/revertlm/token_grammar.ts). @huggingface/tokenizers decodes whole sequences only and
// replaces broken UTF-8 with U+FFFD, so it cannot give a token's raw bytes: hence this table.
import { CHAR_TO_BYTE, utf8 } from '../tokenizer/bytes.js';

interface TokenizerJson {
  model?: { byte_fallback?: boolean; unk_token?: string | null; vocab?: Record<string, number> };
  decoder?: unknown;
  pre_tokenizer?: unknown;
  added_tokens?: { id: number; special?: boolean }[];
}

/** Whether a tokenizer.json component (or any step of a Sequence) has the given type. */
function hasType(component: unknown, type: string): boolean {
  if (component === null || typeof component !== 'object') return false;
  const c = component as { type?: unknown; decoders?: unknown; pretokenizers?: unknown };
  if (c.type === type) return true;
  const steps = [c.decoders, c.pretokenizers].find(Array.isArray) as unknown[] | undefined;
  return !!steps?.some((s) => hasType(s, type));
}

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

/**
 * Per token id (0 … maxId): its bytes, or null for special tokens and pieces whose bytes cannot be
 * read. Byte-level BPE (GPT-2): each character maps back to one byte. SentencePiece-style BPE:
 * `<0xNN>` pieces (byte fallback) are one byte, other pieces their text with ▁ as a space.
 */
export function tokenByteTable(json: object, idToToken: (id: number) => string | undefined, maxId: number): (Uint8Array | null)[] {
  const j = json as TokenizerJson;
  const byteLevel = hasType(j.decoder, 'ByteLevel') || hasType(j.pre_tokenizer, 'ByteLevel');
  const byteFallback = !!j.model?.byte_fallback;
  const special = new Set((j.added_tokens ?? []).filter((t) => t.special).map((t) => t.id));
  const out: (Uint8Array | null)[] = [];
  for (let id = 0; id <= maxId; id++) {
    const piece = idToToken(id);
    if (piece === undefined || special.has(id)) {
      out.push(null);
      continue;
    }
    if (byteLevel) {
      const bytes = [...piece].map((ch) => CHAR_TO_BYTE.get(ch));
      out.push(bytes.every((b) => b !== undefined) ? Uint8Array.from(bytes as number[]) : null);
      continue;
    }
    const m = byteFallback ? BYTE_PIECE.exec(piece) : null;
    out.push(m ? Uint8Array.of(parseInt(m[1]!, 16)) : utf8(piece.replace(/\u2581/g, ' ')));
  }
  return out;
}

/**
 * Ids the tokenizer never emits. With byte fallback (SentencePiece-style BPE) a character falls back
 * to its UTF-8 bytes only when the vocabulary has no piece for it, so `<0xNN>` pieces of ASCII
 * characters that have one (a space: `▁`) never appear, nor does the unknown token. Other
 * tokenizers: none known.
 */
export function unreachableTokens(json: object, idToToken: (id: number) => string | undefined, maxId: number): Set<number> {
  const j = json as TokenizerJson;
  const out = new Set<number>();
  if (!j.model?.byte_fallback || hasType(j.decoder, 'ByteLevel') || hasType(j.pre_tokenizer, 'ByteLevel')) return out;
  const vocab = j.model.vocab ?? {};
  const has = (piece: string) => Object.prototype.hasOwnProperty.call(vocab, piece);
  if (j.model.unk_token && has(j.model.unk_token)) out.add(vocab[j.model.unk_token]!);
  for (let id = 0; id <= maxId; id++) {
    const m = BYTE_PIECE.exec(idToToken(id) ?? '');
    if (!m) continue;
    const b = parseInt(m[1]!, 16);
    if (b >= 0x80) continue;
    const ch = String.fromCharCode(b);
    if (has(ch) || (ch === ' ' && has('\u2581'))) out.add(id);
  }
  return out;
}

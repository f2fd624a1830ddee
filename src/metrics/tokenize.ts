// Tokenisation conventions of the metrics module. This is the one place they are defined.
//
// - ROUGE (rouge.ts): rouge-score's default tokenizer, no stemmer. Lowercase, replace every
//   character outside [a-z0-9] by a space, split on whitespace. So "Hello, World!" and
//   "hello world" tokenise identically, and non-ASCII letters vanish ("café" -> ["caf"]).
// - BLEU (bleu.ts) and the token metrics (token_metrics.ts): Python's `str.split()`, i.e. split
//   on runs of whitespace, case and punctuation kept ("time," and "Lily." are tokens). This is
//   how shared/data/metrics_reference.json built its `bleu_tokens` for NLTK.
// - PII (pii.ts) works on the raw text and needs no tokens.
//
// Every metric also accepts a ready token array (strings or model token ids); arrays are used
// as they are, so callers can score on the model tokenizer's ids instead.

export type Token = string | number;
export type TextOrTokens = string | readonly Token[];

export function rougeTokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(' ')
    .filter((t) => t.length > 0);
}

// The exact set of characters for which Python's str.isspace() is true. JavaScript's \s differs
// (it includes U+FEFF and lacks U+001C..U+001F and U+0085), which would change BLEU token counts.
const PY_WHITESPACE =
  /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

export function whitespaceTokenize(text: string): string[] {
  return text.split(PY_WHITESPACE).filter((t) => t.length > 0);
}

export function toTokens(
  input: TextOrTokens,
  tokenize: (text: string) => string[],
): readonly Token[] {
  return typeof input === 'string' ? tokenize(input) : input;
}

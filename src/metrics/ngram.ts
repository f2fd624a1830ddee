import type { Token } from './tokenize.js';

// Maps tokens to small integers so n-grams can be keyed by a joined id string without
// ambiguity (the token 1 and the token "1" get different ids; tokens may contain any character).
export class Vocab {
  private readonly ids = new Map<Token, number>();

  encode(tokens: readonly Token[]): number[] {
    return tokens.map((t) => {
      let id = this.ids.get(t);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(t, id);
      }
      return id;
    });
  }
}

export function ngramCounts(ids: readonly number[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= ids.length; i++) {
    const key = ids.slice(i, i + n).join(',');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export function sumCounts(counts: Map<string, number>): number {
  let s = 0;
  for (const c of counts.values()) s += c;
  return s;
}

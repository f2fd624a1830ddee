/**
 * Max-heap of (count, key) entries: the highest count first, ties to the lowest key, so the order
 * of merges never depends on insertion order. Entries may go stale; the trainer re-checks on pop.
 */
export class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  private before(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }

  private swap(i: number, j: number): void {
    const c = this.counts[i]!;
    this.counts[i] = this.counts[j]!;
    this.counts[j] = c;
    const k = this.keys[i]!;
    this.keys[i] = this.keys[j]!;
    this.keys[j] = k;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the top entry, or null when empty. */
  pop(): { count: number; key: number } | null {
    const n = this.counts.length;
    if (n === 0) return null;
    const top = { count: this.counts[0]!, key: this.keys[0]! };
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (n > 1) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      const m = n - 1;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < m && this.before(l, best)) best = l;
        if (r < m && this.before(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

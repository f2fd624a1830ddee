// Near-copies decided over the whole capture. Tokens whose input embeddings are near-copies (twins:
// stories260K's ~160 byte-fallback pieces it never learned apart, and EOS) re-encode alike; under
// residual drift the evidence at one position picks the right twin about half the time, and the
// learned stages and prior, trained on other text, cannot say which untrained byte a user types.
// But one user's text uses few of them, over and over, so the per-position winners summed over
// the capture single the right one out (dialogsum's '#' through stories260K at k = 4, 519
// positions: '#' re-encodes closest at 284, no other twin at more than 29). The repair records
// every twin decision; once every window is inverted, each tie goes to the twin that re-encoded
// closest at the most positions of the capture. Twins re-encode alike, so relabelling one leaves
// the states the later positions were decided on where they were. Separators follow the runtime's
// stream: where the tokenizer opens every text with BOS, EOS is always followed by BOS, so a tie
// keeps EOS only where BOS follows or the window ends (and BOS only after EOS or at position 0).

/** Records the repair's twin decisions of one batch: row, position, the twin that re-encoded closest, the tied ones in the prior's order. */
export type TwinSink = (row: number, t: number, closest: number, tied: readonly number[]) => void;

/** The document structure of the runtime's token stream. */
export interface StreamSeparators {
  /** BOS and EOS: a separator among the tied wins where the stream allows it there. */
  separators: ReadonlySet<number>;
  eos: number | null;
  /** The token the stream puts after every EOS (the tokenizer's BOS when it opens every text with one), or null. */
  bosAfterEos: number | null;
}

interface Decision {
  batch: number;
  row: number;
  t: number;
  tied: readonly number[];
}

export class TwinLedger {
  /** Per batch, row and position (a later pass overwrites an earlier one): the decision. */
  readonly #decisions = new Map<string, Decision & { closest: number }>();

  /** The sink the repair of batch `batch` writes to. */
  forBatch(batch: number): TwinSink {
    return (row, t, closest, tied) => void this.#decisions.set(`${batch}:${row}:${t}`, { batch, row, t, closest, tied });
  }

  clear(): void {
    this.#decisions.clear();
  }

  /** Positions at which each token re-encoded closest among its twins. */
  tally(): Map<number, number> {
    const n = new Map<number, number>();
    for (const d of this.#decisions.values()) n.set(d.closest, (n.get(d.closest) ?? 0) + 1);
    return n;
  }

  /**
   * Re-decides every tie on the final reconstruction, `rows[batch][row]` (trimmed to each window's
   * length), in place: an allowed separator among the tied, else the tied twin with the largest
   * tally (the prior's order among equals). Returns the number of tokens changed.
   */
  relabel(rows: readonly number[][][], stream: StreamSeparators): number {
    const tally = this.tally();
    let changed = 0;
    for (const d of this.#decisions.values()) {
      const row = rows[d.batch]?.[d.row];
      if (!row || d.t >= row.length || d.tied.length < 2) continue;
      const allowed = d.tied.filter((tok) => !stream.separators.has(tok) || separatorFits(row, d.t, tok, stream));
      if (allowed.length === 0) continue;
      const sep = allowed.find((tok) => stream.separators.has(tok));
      const pick = sep ?? allowed.reduce((a, tok) => ((tally.get(tok) ?? 0) > (tally.get(a) ?? 0) ? tok : a));
      if (pick !== row[d.t]) {
        row[d.t] = pick;
        changed++;
      }
    }
    return changed;
  }
}

/** Whether the stream could carry separator `tok` at position t of `row`. */
function separatorFits(row: readonly number[], t: number, tok: number, s: StreamSeparators): boolean {
  if (s.bosAfterEos === null) return true;
  if (tok === s.eos) return t === row.length - 1 || row[t + 1] === s.bosAfterEos;
  if (tok === s.bosAfterEos) return t === 0 || row[t - 1] === s.eos;
  return true;
}

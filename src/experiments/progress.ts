// One progress sink for every experiment: which part is running, the completed fraction of the
// whole run (0..1) and a detail line. Nested experiments report through a slice of the parent's range.

export interface ProgressEvent {
  part: string;
  fraction: number;
  detail: string;
}

export type ProgressSink = (p: ProgressEvent) => void;

export const silent: ProgressSink = () => {};

/** A sink whose fractions 0..1 land in [from, to] of the parent's. */
export function slice(sink: ProgressSink, from: number, to: number): ProgressSink {
  return (p) => sink({ ...p, fraction: from + (to - from) * Math.min(1, Math.max(0, p.fraction)) });
}

/** Counts units of work done out of a total, reporting each through the sink. */
export class WorkCounter {
  done = 0;
  constructor(readonly sink: ProgressSink, readonly total: number) {}
  /** The sink for the unit now running (its own fractions span one unit). */
  unit(): ProgressSink {
    const t = Math.max(1, this.total);
    return slice(this.sink, this.done / t, (this.done + 1) / t);
  }
  finish(part: string, detail: string): void {
    this.done++;
    this.sink({ part, fraction: Math.min(1, this.done / Math.max(1, this.total)), detail });
  }
}

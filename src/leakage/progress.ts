// Progress reporting for long analyses, and a way to let timers (progress bars) run in between.

export interface LeakageProgress {
  /** 'tokens': running the model over the texts; 'estimate': one estimator on one layer. */
  stage: 'tokens' | 'estimate';
  /**
   * Steps done so far out of total (tokens for 'tokens', estimator runs for 'estimate'); an
   * 'estimate' event is sent when an estimator starts (naming it) and when it finishes.
   */
  done: number;
  total: number;
  layer?: number;
  estimator?: string;
}

export type ProgressCallback = (p: LeakageProgress) => void;

/** Yields to the event loop (lets a progress bar redraw between synchronous tensor work). */
export const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A uint32 seed derived from a base seed and a path of integers (layer, estimator, ...). */
export function deriveSeed(seed: number, ...path: number[]): number {
  let h = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  for (const p of path) {
    h = Math.imul(h ^ (Math.trunc(p) + 0x7f4a7c15), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}

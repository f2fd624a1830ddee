// Choosing the next token from a row of logits: greedy, or temperature / top-k / top-p sampling
// with a seeded generator (host side, so a seed reproduces across runs and machines).
import { ModelError } from './errors.js';

export interface SamplingOptions {
  /** Argmax (also when temperature is 0). */
  greedy?: boolean;
  temperature?: number;
  /** Keep the k most likely tokens. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p. */
  topP?: number;
}

export function checkSampling(o: SamplingOptions): void {
  if (o.temperature !== undefined && !(o.temperature >= 0)) throw new ModelError(`temperature must be >= 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 1)) throw new ModelError(`topK must be an integer >= 1, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new ModelError(`topP must be in (0, 1], got ${o.topP}`);
}

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** The next token id for one row of logits; rand() is uniform in [0, 1). */
export function sampleToken(logits: Float32Array, o: SamplingOptions, rand: () => number): number {
  const temperature = o.temperature ?? 1;
  if (o.greedy || temperature === 0) return argmax(logits);
  let order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (o.topK !== undefined) order = order.slice(0, o.topK);
  const max = logits[order[0]!]!;
  const p = order.map((i) => Math.exp((logits[i]! - max) / temperature));
  const total = p.reduce((a, b) => a + b, 0);
  let keep = order.length;
  if (o.topP !== undefined && o.topP < 1) {
    let acc = 0;
    for (keep = 0; keep < order.length; ) {
      acc += p[keep++]! / total;
      if (acc >= o.topP) break;
    }
  }
  const mass = p.slice(0, keep).reduce((a, b) => a + b, 0);
  let r = rand() * mass;
  for (let j = 0; j < keep; j++) {
    r -= p[j]!;
    if (r < 0) return order[j]!;
  }
  return order[keep - 1]!;
}

import { tensor, type Tensor } from '../torch/index.js';
import type { SeededRandom } from '../util/prng.js';

/**
 * A batch of random windows of seq + 1 consecutive tokens: inputs are the first seq, targets the
 * last seq (next-token prediction). Both int64 [batch, seq].
 */
export function sampleBatch(tokens: Int32Array, rng: SeededRandom, batch: number, seq: number): { inputs: Tensor; targets: Tensor } {
  const starts = tokens.length - seq; // window [s, s + seq] must fit
  if (starts < 1) throw new RangeError(`the corpus has ${tokens.length} tokens; a window needs ${seq + 1}`);
  const x = new BigInt64Array(batch * seq);
  const y = new BigInt64Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    const s = rng.int(starts);
    for (let i = 0; i < seq; i++) {
      x[b * seq + i] = BigInt(tokens[s + i]!);
      y[b * seq + i] = BigInt(tokens[s + i + 1]!);
    }
  }
  return { inputs: tensor(x, [batch, seq]), targets: tensor(y, [batch, seq]) };
}

// Tokens related by their input embeddings: the repair's near-duplicates (neighbours tried where
// the search stopped) and near-copies (twins the tie-break decides between), token 0's near-copies
// of the separators (framing.ts).
import { Tensor, noGrad, tidy } from '../torch/index.js';
import type { DevicePart } from '../models/types.js';

/**
 * Input-embedding cosine from which two tokens count as near-copies: a model that never saw them in
 * training leaves them near one point (stories260K: 262 of its 512 tokens, mean cosine 0.998 among
 * them), and a drifted device's states no longer tell them apart reliably.
 */
export const NEAR_COPY_COS = 0.99;

/** Per token, on demand and cached: the other tokens `pick` selects from every input embedding's cosine with its own. */
function embeddingRelatives(device: DevicePart, pick: (cos: Tensor) => Tensor): (tok: number) => Int32Array {
  const cache = new Map<number, Int32Array>();
  return (tok) => {
    let n = cache.get(tok);
    if (!n) {
      n = noGrad(() => tidy(() => {
        const E = device.embeddingMatrix;
        const e = E.select(0, tok);
        const cos = E.matmul(e.unsqueeze(-1)).squeeze(-1).div(E.norm(2, -1).mul(e.norm()).clamp(1e-8));
        return pick(cos).to('int32').data<'int32'>();
      })).filter((x) => x !== tok);
      cache.set(tok, n);
    }
    return n;
  };
}

/** Each token's k nearest tokens by input-embedding cosine. */
export const embeddingNeighbours = (device: DevicePart, k: number) => embeddingRelatives(device, (cos) => cos.topk(Math.min(k + 1, cos.size(0)), -1)[1]);

/** Each token's twins: the tokens whose input embedding has cosine ≥ `minCos` with its own. */
export const embeddingTwins = (device: DevicePart, minCos: number) => embeddingRelatives(device, (cos) => cos.ge(minCos).nonzero().reshape([-1]));

import { F, multinomial, noGrad, tidy, type Tensor } from '../../torch/index.js';

export interface Sampling {
  /** 0 = greedy. */
  temperature: number;
  /** 0 = no top-k filter. */
  topK: number;
}

/** Next token ids [B] (int64) from last-position logits [B, V]. */
export function sampleNext(logits: Tensor, s: Sampling): Tensor {
  return noGrad(() =>
    tidy(() => {
      if (s.temperature === 0) return logits.argmax(-1);
      let l = logits.float().div(s.temperature);
      const V = l.size(-1);
      if (s.topK > 0 && s.topK < V) {
        const [values] = l.topk(s.topK, -1);
        l = l.maskedFill(l.lt(values.narrow(-1, s.topK - 1, 1)), -Infinity);
      }
      return multinomial(F.softmax(l, -1), 1).squeeze(-1);
    }),
  );
}
